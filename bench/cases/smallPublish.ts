import { type ArcaTarget, publishBuffer, scopedTarget, waitAvailable } from '../lib/arcaClient.ts';
import type { BenchContext } from '../lib/context.ts';
import { deterministicBytes, sha256Hex } from '../lib/data.ts';
import { median, percentile, runConcurrently } from '../lib/stats.ts';

const CASE = '1 small publish';

/** One contender's way of publishing blob `i` of a prepared batch. */
export type Publish = (blob: { data: Buffer; sha256: string }, id: string) => Promise<unknown>;

interface Run {
  readonly p50: number;
  readonly p99: number;
  readonly perSecond: number;
}

function prepare(seed: string, count: number, size: number) {
  return Array.from({ length: count }, (_, i) => {
    const data = deterministicBytes(`${seed}-${i}`, size);
    return { data, sha256: sha256Hex(data) };
  });
}

/** Publishes `count` distinct blobs, `inFlight` at a time; latency per publish and overall rate. */
export async function measure(publish: Publish, seed: string, count: number, inFlight: number, size: number) {
  const blobs = prepare(seed, count, size);
  const started = performance.now();
  const latencies = await runConcurrently(count, inFlight, async (i) => {
    const t0 = performance.now();
    await publish(blobs[i]!, `${seed}.${i}`);
    return performance.now() - t0;
  });
  const elapsed = performance.now() - started;
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perSecond: count / (elapsed / 1000),
  };
}

const medianOf = (runs: readonly Run[], key: keyof Run) => median(runs.map((r) => r[key]));

/**
 * Case 1: 1 KiB create + PUT + commit, one at a time and 8 in flight, against the registry's
 * POST + monolithic PUT of blobs of the same size. Contenders alternate within each repeat so drift
 * on the machine hits both alike; figures are medians over the repeats.
 */
export async function smallPublish(ctx: BenchContext): Promise<void> {
  const { scale } = ctx;
  const arcaPublish =
    (target: ArcaTarget, pkg: string): Publish =>
    (blob, id) =>
      publishBuffer(target, { namespace: 'bench', package: pkg, version: id }, blob.data, blob.sha256);
  // A run's scans go on after its last publish returns: wait for them (the scan queue is first in,
  // first out), so they do not slow the next contender's measurement down.
  const arcaSettle = (target: ArcaTarget, pkg: string) => (lastId: string) =>
    waitAvailable(target, { namespace: 'bench', package: pkg, version: lastId }, 5);
  // What CI really holds: a token scoped to one namespace, looked up in the index on every request.
  const scoped = await scopedTarget(ctx.arca, 'bench-ci', { bench: ['write'] });
  const contenders: { name: string; publish: Publish; settle?: (lastId: string) => Promise<unknown> }[] = [
    { name: 'arca', publish: arcaPublish(ctx.arca, 'small'), settle: arcaSettle(ctx.arca, 'small') },
    {
      name: 'arca-scoped',
      publish: arcaPublish(scoped, 'small-scoped'),
      settle: arcaSettle(scoped, 'small-scoped'),
    },
  ];
  if (ctx.registry) {
    const registry = ctx.registry;
    contenders.push({
      name: 'registry',
      publish: (blob) => registry.pushBlob('bench/small', blob.data, blob.data.length, blob.sha256),
    });
  }
  for (const c of contenders)
    await measure(c.publish, `warm-${c.name}`, scale.smallWarmup, 1, scale.smallSize);

  const results = new Map<string, { one: Run[]; eight: Run[] }>(
    contenders.map((c) => [c.name, { one: [], eight: [] }]),
  );
  for (let r = 0; r < scale.repeats; r++) {
    for (const c of contenders) {
      ctx.progress(`small publish: ${c.name}, repeat ${r + 1}/${scale.repeats}`);
      const runs = results.get(c.name)!;
      runs.one.push(await measure(c.publish, `r${r}-1-${c.name}`, scale.smallSequential, 1, scale.smallSize));
      await c.settle?.(`r${r}-1-${c.name}.${scale.smallSequential - 1}`);
      runs.eight.push(
        await measure(c.publish, `r${r}-8-${c.name}`, scale.smallConcurrent, scale.inFlight, scale.smallSize),
      );
      await c.settle?.(`r${r}-8-${c.name}.${scale.smallConcurrent - 1}`);
    }
  }

  const arca = results.get('arca')!;
  const arcaScoped = results.get('arca-scoped')!;
  const registry = results.get('registry');
  const anchor = (runs: Run[] | undefined, key: keyof Run) => ({
    name: ctx.registry ? 'docker-registry blob push' : 'docker-registry (not installed)',
    value: runs ? medianOf(runs, key) : null,
  });
  const size = `${scale.smallSize / 1024} KiB`;
  for (const [label, key, runsOf] of [
    ['1 in flight', 'one', (x: typeof arca) => x.one],
    [`${scale.inFlight} in flight`, 'eight', (x: typeof arca) => x.eight],
  ] as const) {
    const ours = runsOf(arca);
    const theirs = registry ? runsOf(registry) : undefined;
    ctx.add({
      case: CASE,
      name: `embedded ${size}, ${label}: p50`,
      value: medianOf(ours, 'p50'),
      unit: 'ms',
      better: 'lower',
      anchor: anchor(theirs, 'p50'),
      ...(key === 'one' ? { target: { op: '≤', value: 5 } } : {}),
    });
    ctx.add({
      case: CASE,
      name: `embedded ${size}, ${label}: p99`,
      value: medianOf(ours, 'p99'),
      unit: 'ms',
      better: 'lower',
      anchor: anchor(theirs, 'p99'),
    });
    ctx.add({
      case: CASE,
      name: `embedded ${size}, ${label}: publishes/s`,
      value: medianOf(ours, 'perSecond'),
      unit: '/s',
      better: 'higher',
      anchor: anchor(theirs, 'perSecond'),
      ...(key === 'eight' ? { target: { op: '≥', value: 300 } } : {}),
    });
  }
  // Authentication's cost: the same publish with a scoped Arca token against the admin token.
  ctx.add({
    case: CASE,
    name: `embedded ${size} with a scoped token, 1 in flight: p50`,
    value: medianOf(arcaScoped.one, 'p50'),
    unit: 'ms',
    better: 'lower',
    anchor: { name: 'the same publish with the admin token', value: medianOf(arca.one, 'p50') },
    target: { op: '≤', value: 1.1 * medianOf(arca.one, 'p50'), text: '≤ 1.1× the admin token' },
  });
}
