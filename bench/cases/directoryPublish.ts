import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCli } from '../../scripts/buildCli.ts';
import { cliAvailable, runCli } from '../lib/cli.ts';
import type { BenchContext } from '../lib/context.ts';
import { deterministicBytes, sha256Hex } from '../lib/data.ts';
import { median, repeat, runConcurrently } from '../lib/stats.ts';

const CASE = '13 directory publish';
const FILES = 1000;
const SIZE = 1024;
/** In flight at once: the CLI's default `--concurrency`, for the registry too. */
const IN_FLIGHT = 4;

/** `FILES` distinct 1 KiB files under `<root>/dist`, 20 to a directory, two levels deep. */
async function writeTree(root: string, seed: string): Promise<Buffer[]> {
  const blobs: Buffer[] = [];
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, 'dist', `d${i % 5}`, `e${Math.floor(i / 5) % 10}`);
    await mkdir(dir, { recursive: true });
    const data = deterministicBytes(`${seed}-${i}`, SIZE);
    await writeFile(join(dir, `f${i}.js`), data);
    blobs.push(data);
  }
  return blobs;
}

/**
 * Case 13: `arca publish <ref> dist/` of a 1,000-file tree of 1 KiB files, end to end through the
 * CLI (hashing, create, the PUT of one pack, commit; Node's start-up included), as files per second,
 * through the standalone bundle and through bin/arca.js (tsx), against
 * docker-registry receiving the same 1,000 blobs (POST + monolithic PUT each, `IN_FLIGHT` at once).
 * Every run publishes new content, so nothing is deduplicated.
 */
export async function directoryPublish(ctx: BenchContext): Promise<void> {
  if (!cliAvailable(ctx.repoRoot)) {
    ctx.add({
      case: CASE,
      name: `${FILES} × 1 KiB through the CLI`,
      value: null,
      unit: 'files/s',
      better: 'higher',
      status: 'no CLI',
    });
    return;
  }
  // The shipped CLI is the standalone bundle (`npm run build`, built fresh here, untimed); the same
  // publish through bin/arca.js, which loads the sources with tsx (~0.3 s more start-up), is shown too.
  const { bundle } = await buildCli();
  const publishes = (entry: string, label: string) =>
    repeat(ctx.scale.repeats, async (run) => {
      const root = join(ctx.tmp, `directory-${label}-${run}`);
      await writeTree(root, `arca-${label}-${run}`);
      const result = await runCli(
        ctx.repoRoot,
        ctx.arca,
        ['publish', `bench/site-${label}@1.0.${run}`, join(root, 'dist')],
        entry,
      );
      if (result.code !== 0)
        throw new Error(`arca publish exited ${result.code}: ${result.stderr.slice(-300)}`);
      return FILES / (result.ms / 1000);
    });
  const ours = await publishes(bundle, 'bundle');
  const viaTsx = await publishes(join(ctx.repoRoot, 'bin/arca.js'), 'tsx');
  let anchor: number | null = null;
  if (ctx.registry) {
    const registry = ctx.registry;
    const theirs = await repeat(ctx.scale.repeats, async (run) => {
      const blobs = await writeTree(join(ctx.tmp, `registry-directory-${run}`), `registry-${run}`);
      const started = performance.now();
      await runConcurrently(FILES, IN_FLIGHT, (i) =>
        registry.pushBlob('bench/site', blobs[i]!, SIZE, sha256Hex(blobs[i]!)),
      );
      return FILES / ((performance.now() - started) / 1000);
    });
    anchor = median(theirs);
  }
  ctx.add({
    case: CASE,
    name: `${FILES} × 1 KiB through the CLI (bundle dist/cli/arca.mjs)`,
    value: median(ours),
    unit: 'files/s',
    better: 'higher',
    anchor: {
      name: ctx.registry ? `docker-registry, ${FILES} blobs` : 'docker-registry (not installed)',
      value: anchor,
    },
    target: { op: '≥', value: 2000 },
  });
  ctx.add({
    case: CASE,
    name: `${FILES} × 1 KiB through bin/arca.js (tsx)`,
    value: median(viaTsx),
    unit: 'files/s',
    better: 'higher',
  });
}
