import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { publishBuffer, routeExists } from '../lib/arcaClient.ts';
import type { BenchContext } from '../lib/context.ts';
import { deterministicBytes, sha256Hex } from '../lib/data.ts';
import { httpRequest, jsonRequest } from '../lib/http.ts';
import { resetPeakRss, vmField } from '../lib/processes.ts';
import { Registry } from '../lib/registry.ts';
import { runConcurrently } from '../lib/stats.ts';

const CASE = '5 GC';

interface Figures {
  planMs: number | null;
  deletedPerSecond: number | null;
}

async function countBlobs(root: string): Promise<number> {
  const dir = join(root, 'docker/registry/v2/blobs/sha256');
  let n = 0;
  for (const prefix of await readdir(dir).catch(() => [] as string[]))
    n += (await readdir(join(dir, prefix))).length;
  return n;
}

/** `docker-registry garbage-collect` over `count` unreferenced blobs: `--dry-run` (its plan), then the sweep. */
async function registryGc(ctx: BenchContext, count: number): Promise<Figures> {
  const registry = await Registry.create(join(ctx.tmp, 'registry-gc'));
  ctx.progress(`gc: laying out ${count.toLocaleString('en-US')} unreferenced registry blobs`);
  const hexes = Array.from({ length: count }, (_, i) => sha256Hex(Buffer.from(`gc-${i}`)));
  await registry.seedUnreferencedBlobs('bench/gc', hexes, deterministicBytes('gc', 1024));
  ctx.progress('gc: docker-registry garbage-collect --dry-run');
  const plan = await registry.garbageCollect(true);
  ctx.progress('gc: docker-registry garbage-collect');
  const run = await registry.garbageCollect(false);
  const left = await countBlobs(registry.root);
  if (plan.code !== 0 || run.code !== 0 || left !== 0) {
    throw new Error(`garbage-collect exited ${plan.code}/${run.code} and left ${left} of ${count} blobs`);
  }
  ctx.peaks.push({
    key: 'registry-gc',
    process: 'docker-registry garbage-collect',
    during: CASE,
    bytes: run.peakRss,
  });
  return { planMs: plan.ms, deletedPerSecond: count / (run.ms / 1000) };
}

/**
 * Arca's GC over `count` versions once the GC routes exist: versions published through the API into
 * a namespace whose policy keeps almost nothing, then `POST /v1/gc/plan` and `POST /v1/gc/run` timed.
 */
async function arcaGc(ctx: BenchContext, count: number): Promise<Figures> {
  const auth = { authorization: `Bearer ${ctx.arca.token}` };
  const policy = { retention: { keepLast: 1, maxAgeDays: 0, keepPromotedPerStage: 0, graceHours: 0 } };
  await jsonRequest(`${ctx.arca.url}/v1/namespaces/gc/policy`, 'PUT', auth, policy, [200, 201, 204]);
  ctx.progress(`gc: publishing ${count.toLocaleString('en-US')} versions to collect`);
  await runConcurrently(count, 16, async (i) => {
    const data = deterministicBytes(`arca-gc-${i}`, 1024);
    await publishBuffer(
      ctx.arca,
      { namespace: 'gc', package: 'old', version: `v${i}` },
      data,
      sha256Hex(data),
    );
  });
  const planStarted = performance.now();
  await jsonRequest(`${ctx.arca.url}/v1/gc/plan`, 'POST', auth, {});
  const planMs = performance.now() - planStarted;
  const runStarted = performance.now();
  const res = await httpRequest(`${ctx.arca.url}/v1/gc/run`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '{}',
  });
  const runMs = performance.now() - runStarted;
  const ran = JSON.parse(res.body.toString('utf8')) as { deleted?: { blobs?: number } };
  const blobs = ran.deleted?.blobs ?? 0;
  if (res.status !== 200 || blobs === 0) {
    ctx.note(
      `Arca GC run answered ${res.status} and deleted ${blobs} blobs (policy grace may defer deletions)`,
    );
  }
  return { planMs, deletedPerSecond: blobs > 0 ? blobs / (runMs / 1000) : null };
}

/**
 * Case 5: GC plan and run over `gcCount` versions, against CNCF Distribution's offline
 * `garbage-collect` over as many unreferenced blobs. Arca's rows say "not built yet" until
 * `POST /v1/gc/plan` answers something other than 404.
 */
export async function gcCase(ctx: BenchContext): Promise<void> {
  const count = ctx.scale.gcCount;
  resetPeakRss(ctx.arca.pid);
  const anchor: Figures = ctx.tools.registry
    ? await registryGc(ctx, count)
    : { planMs: null, deletedPerSecond: null };
  const built = await routeExists(ctx.arca, 'POST', '/v1/gc/plan', {});
  const ours: Figures = built ? await arcaGc(ctx, count) : { planMs: null, deletedPerSecond: null };
  const status = built ? {} : { status: 'not built yet' };
  const n = count.toLocaleString('en-US');
  const registryName = (what: string) =>
    ctx.tools.registry ? `garbage-collect ${what}` : 'docker-registry (not installed)';
  ctx.add({
    case: CASE,
    name: `plan over ${n} versions`,
    value: ours.planMs === null ? null : ours.planMs / 1000,
    unit: 's',
    better: 'lower',
    anchor: {
      name: registryName(`--dry-run, ${n} blobs`),
      value: anchor.planMs === null ? null : anchor.planMs / 1000,
    },
    target: { op: '≤', value: 10, text: count === 100_000 ? '≤ 10 s' : '≤ 10 s at 100,000' },
    ...status,
  });
  ctx.add({
    case: CASE,
    name: `run: blob deletions (${n})`,
    value: ours.deletedPerSecond,
    unit: 'blobs/s',
    better: 'higher',
    anchor: { name: registryName(`offline, ${n} blobs`), value: anchor.deletedPerSecond },
    target: { op: '≥', value: 2000 },
    ...status,
  });
  ctx.peaks.push({
    key: 'server',
    process: 'Arca server (API + storage endpoint + scan worker, one process)',
    during: CASE,
    bytes: vmField(ctx.arca.pid, 'VmHWM'),
    ...(built ? {} : { note: 'GC not built yet: the server idles through this case' }),
  });
}
