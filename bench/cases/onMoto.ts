import { join } from 'node:path';
import { publishBuffer, publishFile, waitAvailable } from '../lib/arcaClient.ts';
import type { ArcaServer } from '../lib/arcaServer.ts';
import type { BenchContext } from '../lib/context.ts';
import { sha256File, stampFile, writeDeterministicFile } from '../lib/data.ts';
import type { S3Anchor } from '../lib/s3Anchor.ts';
import type { Scale } from '../lib/scale.ts';
import { formatSize, MiB, mbPerSecond, median } from '../lib/stats.ts';
import { measure } from './smallPublish.ts';

/** The AWS backend under test: an Arca server with `ARCA_BACKEND=aws` and the raw S3 anchor, both on moto. */
export interface OnMoto {
  readonly arca: ArcaServer;
  readonly s3: S3Anchor;
}

/**
 * moto answers an order of magnitude slower than the embedded backend: fewer small publishes, and
 * the large case at 256 MiB only (the size issue 3's target names), keep the run within minutes.
 * Ratios are still taken against the raw SDK in the same run, with the same counts.
 */
function motoScale(scale: Scale): Scale {
  return {
    ...scale,
    smallSequential: Math.min(scale.smallSequential, 100),
    smallConcurrent: Math.min(scale.smallConcurrent, 200),
    largeSizes: scale.largeSizes.filter((b) => b <= 256 * 2 ** 20),
  };
}

/**
 * Cases 1 and 2 on the AWS backend against moto, when that backend exists: Arca's publish against a
 * raw PutObject (small) and the SDK's multipart upload (large) to the same moto.
 */
export async function publishOnMoto(ctx: BenchContext, moto: OnMoto): Promise<void> {
  const scale = motoScale(ctx.scale);
  const size = scale.smallSize;
  const arca = (inFlight: number, r: number) =>
    measure(
      (blob, id) =>
        publishBuffer(
          moto.arca,
          { namespace: 'bench', package: 'moto-small', version: id },
          blob.data,
          blob.sha256,
        ),
      `moto-${r}-${inFlight}`,
      inFlight === 1 ? scale.smallSequential : scale.smallConcurrent,
      inFlight,
      size,
    );
  const s3 = (inFlight: number, r: number) =>
    measure(
      (blob, id) => moto.s3.putObject(`small/${id}`, blob.data, blob.sha256),
      `s3-${r}-${inFlight}`,
      inFlight === 1 ? scale.smallSequential : scale.smallConcurrent,
      inFlight,
      size,
    );
  for (const inFlight of [1, scale.inFlight]) {
    const ours: number[] = [];
    const theirs: number[] = [];
    const ourRate: number[] = [];
    const theirRate: number[] = [];
    for (let r = 0; r < scale.repeats; r++) {
      ctx.progress(`moto small publish: ${inFlight} in flight, repeat ${r + 1}/${scale.repeats}`);
      const a = await arca(inFlight, r);
      const b = await s3(inFlight, r);
      ours.push(a.p50);
      theirs.push(b.p50);
      ourRate.push(a.perSecond);
      theirRate.push(b.perSecond);
    }
    const base = { case: '1 small publish', anchor: { name: 'raw S3 PutObject (moto)', value: 0 } };
    ctx.add({
      ...base,
      name: `moto ${size / 1024} KiB, ${inFlight} in flight: p50`,
      value: median(ours),
      unit: 'ms',
      better: 'lower',
      anchor: { ...base.anchor, value: median(theirs) },
    });
    ctx.add({
      ...base,
      name: `moto ${size / 1024} KiB, ${inFlight} in flight: publishes/s`,
      value: median(ourRate),
      unit: '/s',
      better: 'higher',
      anchor: { ...base.anchor, value: median(theirRate) },
    });
  }

  for (const bytes of scale.largeSizes) {
    const path = join(ctx.tmp, 'data', `moto-${bytes}.bin`);
    await writeDeterministicFile(path, bytes, `moto-${bytes}`);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < scale.repeats; r++) {
      ctx.progress(`moto large publish: ${formatSize(bytes)}, repeat ${r + 1}/${scale.repeats}`);
      await stampFile(path, `moto-${r}`);
      const sha256 = await sha256File(path);
      const ref = { namespace: 'bench', package: `moto-large-${bytes}`, version: `r.${r}` };
      let started = performance.now();
      await publishFile(moto.arca, ref, { path, size: bytes, sha256 });
      ours.push(performance.now() - started);
      await waitAvailable(moto.arca, ref, 50);
      started = performance.now();
      await moto.s3.multipart(`large/${bytes}/${r}`, path, 16 * MiB, 4);
      theirs.push(performance.now() - started);
    }
    ctx.add({
      case: '2 large publish',
      name: `moto ${formatSize(bytes)}: publish (bench client)`,
      value: mbPerSecond(bytes, median(ours)),
      unit: 'MB/s',
      better: 'higher',
      anchor: { name: 'raw SDK multipart (moto)', value: mbPerSecond(bytes, median(theirs)) },
      target: { op: '≥', value: 0.9 * mbPerSecond(bytes, median(theirs)), text: '≥ 0.9× raw multipart' },
    });
  }
}
