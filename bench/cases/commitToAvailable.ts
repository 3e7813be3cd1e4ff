import { publishBuffer, waitAvailable } from '../lib/arcaClient.ts';
import type { BenchContext } from '../lib/context.ts';
import { deterministicBytes, sha256Hex } from '../lib/data.ts';
import { formatSize, percentile } from '../lib/stats.ts';

const CASE = '3 commit → available';
const NO_ANCHOR = 'the registry serves a blob as soon as its push returns; it has no scan step to compare';

/**
 * Case 3: from the commit request to the first GET that shows `available` (the scan of the staged
 * bytes, the move into content-addressed storage and the index update), polling every 2 ms for 1 KiB.
 * The large figure comes from case 2's publishes (polled every 10 ms).
 */
export async function commitToAvailable(ctx: BenchContext): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < ctx.scale.commitSamples; i++) {
    const data = deterministicBytes(`commit-${i}`, ctx.scale.smallSize);
    const ref = { namespace: 'bench', package: 'commit', version: `c.${i}` };
    let sent = 0;
    await publishBuffer(ctx.arca, ref, data, sha256Hex(data), {
      onCommitStart: () => (sent = performance.now()),
    });
    await waitAvailable(ctx.arca, ref, 2);
    samples.push(performance.now() - sent);
  }
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
