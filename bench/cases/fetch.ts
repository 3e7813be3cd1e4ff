import {
  fetchVerified,
  publishBuffer,
  routeExists,
  type VersionRef,
  waitAvailable,
} from '../lib/arcaClient.ts';
import type { BenchContext } from '../lib/context.ts';
import { deterministicBytes, sha256Hex } from '../lib/data.ts';
import { downloadHashing, jsonRequest } from '../lib/http.ts';
import { formatSize, mbPerSecond, median, percentile } from '../lib/stats.ts';

const CASE = '4 fetch';

async function latencies(count: number, op: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op();
    out.push(performance.now() - started);
  }
  return out;
}

/** Registry blob GET with the same sha256 verification the Arca client does. */
async function registryGet(url: string, sha256: string): Promise<number> {
  const got = await downloadHashing(url);
  if (got.status !== 200 || got.sha256 !== sha256) throw new Error(`registry GET ${url}: ${got.status}`);
  return got.size;
}

/**
 * Case 4: resolve (`?redirect=false`) + download + sha256 check of a 1 KiB file, by version, and by
 * stage once promotion exists; then large-download throughput of case 2's largest file. The anchor
 * is the registry's blob GET of the same bytes, verified the same way.
 */
export async function fetchCase(ctx: BenchContext): Promise<void> {
  const data = deterministicBytes('fetch-small', ctx.scale.smallSize);
  const sha256 = sha256Hex(data);
  const ref: VersionRef = { namespace: 'bench', package: 'fetch', version: '1.0.0' };
  await publishBuffer(ctx.arca, ref, data, sha256);
  await waitAvailable(ctx.arca, ref, 5);
  let registryUrl: string | undefined;
  if (ctx.registry) {
    await ctx.registry.pushBlob('bench/fetch', data, data.length, sha256);
    registryUrl = ctx.registry.blobUrl('bench/fetch', sha256);
  }
  const n = ctx.scale.fetchSamples;
  const base = { case: CASE, unit: 'ms', better: 'lower' } as const;
  const anchorName = ctx.registry ? 'docker-registry blob GET' : 'docker-registry (not installed)';

  for (const op of [
    () => fetchVerified(ctx.arca, ref),
    ...(registryUrl ? [() => registryGet(registryUrl, sha256)] : []),
  ])
    await latencies(Math.min(20, n), op);
  const ours = await latencies(n, () => fetchVerified(ctx.arca, ref));
  const theirs = registryUrl ? await latencies(n, () => registryGet(registryUrl, sha256)) : [];
  const size = `${ctx.scale.smallSize / 1024} KiB`;
  for (const p of [50, 99]) {
    ctx.add({
      ...base,
      name: `embedded ${size} by version: resolve + download p${p}`,
      value: percentile(ours, p),
      anchor: { name: anchorName, value: theirs.length > 0 ? percentile(theirs, p) : null },
    });
  }

  const promotePath = `/v1/packages/bench/fetch/versions/1.0.0/promote`;
  if (await routeExists(ctx.arca, 'POST', promotePath, { stage: 'bench' })) {
    const auth = { authorization: `Bearer ${ctx.arca.token}` };
    const byStage = await latencies(n, async () => {
      const stage = await jsonRequest<{ version: string }>(
        `${ctx.arca.url}/v1/packages/bench/fetch/stages/bench`,
        'GET',
        auth,
      );
      return fetchVerified(ctx.arca, { ...ref, version: stage.version });
    });
    for (const p of [50, 99]) {
      ctx.add({
        ...base,
        name: `embedded ${size} by stage: resolve + download p${p}`,
        value: percentile(byStage, p),
        anchor: { name: anchorName, value: theirs.length > 0 ? percentile(theirs, p) : null },
      });
    }
  } else {
    ctx.add({
      ...base,
      name: `embedded ${size} by stage: resolve + download`,
      value: null,
      status: 'not built yet',
    });
  }

  const largest = ctx.shared.largest;
  if (!largest) {
    ctx.add({
      case: CASE,
      name: 'large download',
      value: null,
      unit: 'MB/s',
      better: 'higher',
      status: 'no samples (case 2 failed)',
    });
    return;
  }
  const runs: number[] = [];
  const registryRuns: number[] = [];
  for (let r = 0; r < ctx.scale.repeats; r++) {
    ctx.progress(`fetch: large download, repeat ${r + 1}/${ctx.scale.repeats}`);
    runs.push((await latencies(1, () => fetchVerified(ctx.arca, largest.ref)))[0]!);
    if (ctx.registry && largest.registryRepo) {
      const url = ctx.registry.blobUrl(largest.registryRepo, largest.sha256);
      registryRuns.push((await latencies(1, () => registryGet(url, largest.sha256)))[0]!);
    }
  }
  const mb = (samples: number[]) => (samples.length > 0 ? mbPerSecond(largest.size, median(samples)) : null);
  ctx.add({
    case: CASE,
    name: `embedded ${formatSize(largest.size)} download + sha256 check`,
    value: mb(runs),
    unit: 'MB/s',
    better: 'higher',
    anchor: { name: anchorName, value: mb(registryRuns) },
  });
}
