import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { routeExists } from '../lib/arcaClient.ts';
import { type ArcaServer, startArcaServer } from '../lib/arcaServer.ts';
import type { BenchContext } from '../lib/context.ts';
import { deterministicBytes, sha256Hex } from '../lib/data.ts';
import { seedOldVersions, seedUnreferencedBlobs } from '../lib/gcSeed.ts';
import { httpRequest } from '../lib/http.ts';
import { resetPeakRss, vmField } from '../lib/processes.ts';
import { Registry } from '../lib/registry.ts';

const CASE = '5 GC';

interface Figures {
  planMs: number | null;
  deletedPerSecond: number | null;
  /** Peak RSS of the Arca server across the GC measurements. */
  peakRss?: number;
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
 * Arca's GC, measured on two embedded data dirs seeded directly (publishing 100,000 versions through
 * the API would take minutes and measure publishing): `POST /v1/gc/plan` over `count` old versions in
 * `count / 100` packages (the documented default policy: keep the newest 10 of each), then
 * `POST /v1/gc/run` over `count` blobs unreferenced past their grace.
 */
async function arcaGc(ctx: BenchContext, count: number): Promise<Figures> {
  const packages = Math.max(1, Math.floor(count / 100));
  const plan = await withSeededServer(
    ctx,
    'gc-plan',
    (dir) => seedOldVersions(dir, count, packages),
    async (server, auth) => {
      const started = performance.now();
      const res = await httpRequest(`${server.url}/v1/gc/plan`, {
        method: 'POST',
        headers: auth,
        body: '{"limit":10}',
      });
      const ms = performance.now() - started;
      const body = JSON.parse(res.body.toString('utf8')) as { counts?: { tombstoneVersion?: number } };
      ctx.note(
        `Arca GC plan: ${body.counts?.tombstoneVersion ?? 0} of ${count} versions to tombstone (keep the newest 10 per package)`,
      );
      return ms;
    },
  );
  const run = await withSeededServer(
    ctx,
    'gc-run',
    (dir) => seedUnreferencedBlobs(dir, count),
    async (server, auth) => {
      const started = performance.now();
      const res = await httpRequest(`${server.url}/v1/gc/run`, { method: 'POST', headers: auth, body: '{}' });
      const seconds = (performance.now() - started) / 1000;
      const blobs =
        (JSON.parse(res.body.toString('utf8')) as { deleted?: { blobs?: number } }).deleted?.blobs ?? 0;
      if (blobs !== count) ctx.note(`Arca GC run deleted ${blobs} of ${count} seeded blobs`);
      return blobs / seconds;
    },
  );
  const peaks = [plan.peakRss, run.peakRss].filter((b): b is number => b !== undefined);
  return {
    planMs: plan.result,
    deletedPerSecond: run.result,
    ...(peaks.length ? { peakRss: Math.max(...peaks) } : {}),
  };
}

async function withSeededServer<T>(
  ctx: BenchContext,
  name: string,
  seed: (dataDir: string) => Promise<void>,
  measure: (server: ArcaServer, auth: Record<string, string>) => Promise<T>,
): Promise<{ result: T; peakRss: number | undefined }> {
  const dataDir = join(ctx.tmp, name);
  ctx.progress(`gc: seeding ${name}`);
  await seed(dataDir);
  const server = await startArcaServer({
    repoRoot: ctx.repoRoot,
    dataDir,
    env: { ARCA_GC_INTERVAL_SECONDS: '0' },
  });
  try {
    resetPeakRss(server.pid);
    const result = await measure(server, {
      authorization: `Bearer ${server.token}`,
      'content-type': 'application/json',
    });
    return { result, peakRss: vmField(server.pid, 'VmHWM') };
  } finally {
    await server.stop();
  }
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
    bytes: built ? ours.peakRss : vmField(ctx.arca.pid, 'VmHWM'),
    ...(built ? {} : { note: 'GC not built yet: the server idles through this case' }),
  });
}
