import { type ArcaTarget, publishBuffer, type VersionRef, waitAvailable } from '../lib/arcaClient.ts';
import type { BenchContext } from '../lib/context.ts';
import { deterministicBytes, sha256Hex } from '../lib/data.ts';
import { jsonRequest } from '../lib/http.ts';
import { formatSize, percentile } from '../lib/stats.ts';

const CASE = '3 commit → available';
const PROVENANCE_CASE = '3 commit → available with provenance';
const NO_ANCHOR = 'the registry serves a blob as soon as its push returns; it has no scan step to compare';

/** Milliseconds from each commit request until `reached` resolves, over distinct 1 KiB publishes into `pkg`. */
async function sampleCommits(
  ctx: BenchContext,
  pkg: string,
  reached: (ref: VersionRef) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < ctx.scale.commitSamples; i++) {
    const data = deterministicBytes(`${pkg}-${i}`, ctx.scale.smallSize);
    const ref = { namespace: 'bench', package: pkg, version: `${pkg[0]}.${i}` };
    let sent = 0;
    await publishBuffer(ctx.arca, ref, data, sha256Hex(data), {
      onCommitStart: () => (sent = performance.now()),
    });
    await reached(ref);
    samples.push(performance.now() - sent);
  }
  return samples;
}

/**
 * Case 3: from the commit request to the first GET that shows `available` (the scan of the staged
 * bytes, the move into content-addressed storage and the index update), polling every 2 ms for 1 KiB.
 * The large figure comes from case 2's publishes (polled every 10 ms).
 */
export async function commitToAvailable(ctx: BenchContext): Promise<void> {
  const samples = await sampleCommits(ctx, 'commit', (ref) => waitAvailable(ctx.arca, ref, 2));
  const small = `${ctx.scale.smallSize / 1024} KiB`;
  ctx.add({
    case: CASE,
    name: `embedded ${small}: p50`,
    value: percentile(samples, 50),
    unit: 'ms',
    better: 'lower',
    target: { op: '≤', value: 50 },
    note: NO_ANCHOR,
  });
  ctx.add({
    case: CASE,
    name: `embedded ${small}: p99`,
    value: percentile(samples, 99),
    unit: 'ms',
    better: 'lower',
  });

  await withProvenance(ctx, percentile(samples, 50));

  const size = ctx.scale.largeSizes[0]!;
  const large = ctx.shared.commitToAvailable.get(size) ?? [];
  const name = `embedded ${formatSize(size)}`;
  const status = large.length === 0 ? 'no samples (case 2 failed)' : undefined;
  const n = `over ${large.length} publishes`;
  ctx.add({
    case: CASE,
    name: `${name}: p50 (${n})`,
    value: percentile(large, 50),
    unit: 'ms',
    better: 'lower',
    ...(status ? { status } : {}),
  });
  ctx.add({
    case: CASE,
    name: `${name}: p99 (${n})`,
    value: percentile(large, 99),
    unit: 'ms',
    better: 'lower',
    ...(status ? { status } : {}),
  });
}

/**
 * The same 1 KiB publishes, timed until the version's store provenance is signed (the scan worker
 * signs once the version is available), polling its attestations every 2 ms. The target is on what
 * signing adds over the plain case's p50.
 */
async function withProvenance(ctx: BenchContext, availableP50: number): Promise<void> {
  const samples = await sampleCommits(ctx, 'provenance', (ref) => waitProvenance(ctx.arca, ref, 2));
  const small = `${ctx.scale.smallSize / 1024} KiB`;
  const p50 = percentile(samples, 50);
  ctx.add({ case: PROVENANCE_CASE, name: `embedded ${small}: p50`, value: p50, unit: 'ms', better: 'lower' });
  ctx.add({
    case: PROVENANCE_CASE,
    name: `embedded ${small}: p99`,
    value: percentile(samples, 99),
    unit: 'ms',
    better: 'lower',
  });
  ctx.add({
    case: PROVENANCE_CASE,
    name: `embedded ${small}: p50 added by signing`,
    value: p50 - availableP50,
    unit: 'ms',
    better: 'lower',
    target: { op: '≤', value: 2 },
  });
}

async function waitProvenance(t: ArcaTarget, ref: VersionRef, pollMs: number, timeoutMs = 600_000) {
  const path = `${t.url}/v1/packages/${ref.namespace}/${ref.package}/versions/${ref.version}/attestations`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { items } = await jsonRequest<{ items: { id: string }[] }>(path, 'GET', {
      authorization: `Bearer ${t.token}`,
    });
    if (items.some((a) => a.id === 'provenance')) return;
    if (Date.now() > deadline) throw new Error(`${ref.version} has no provenance after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
