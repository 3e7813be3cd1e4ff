import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCli } from '../../scripts/buildCli.ts';
import type { BenchContext } from '../lib/context.ts';
import { runToEnd } from '../lib/processes.ts';
import { median } from '../lib/stats.ts';

const CASE = '8 CLI package';

/** Wall-clock milliseconds of `node <args…>` in a fresh process, Node's own start-up included. */
async function timed(args: readonly string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  const run = await runToEnd(process.execPath, [...args], { cwd });
  const ms = performance.now() - t0;
  if (run.code !== 0) throw new Error(`node ${args.join(' ')} failed: ${run.stderr.slice(0, 300)}`);
  return ms;
}

/**
 * Case 8: the standalone CLI (`npm run build`): its bundle size, and how long `arca --version` takes
 * from a fresh process, against the same command through tsx in the repository (what `npx arca` does).
 */
export async function cliStartup(ctx: BenchContext): Promise<void> {
  ctx.progress('CLI package: build');
  const { bundle } = await buildCli();
  const size = (await stat(bundle)).size;
  ctx.add({
    case: CASE,
    name: 'bundle size (dist/cli/arca.mjs)',
    value: size / 1024,
    unit: 'KiB',
    better: 'lower',
    target: { op: '≤', value: 2048, text: '≤ 2 MiB' },
  });
  const runs = Math.max(5, ctx.scale.coldStartImports);
  const bundled: number[] = [];
  const viaTsx: number[] = [];
  for (let i = 0; i < runs; i++) {
    ctx.progress(`CLI package: arca --version ${i + 1}/${runs}`);
    bundled.push(await timed([bundle, '--version'], ctx.tmp));
    viaTsx.push(await timed([join(ctx.repoRoot, 'bin/arca.js'), '--version'], ctx.repoRoot));
  }
  ctx.add({
    case: CASE,
    name: `arca --version, median of ${runs} fresh processes`,
    value: median(bundled),
    unit: 'ms',
    better: 'lower',
    anchor: { name: 'the same through tsx in the repository', value: median(viaTsx) },
    target: { op: '≤', value: 150, text: '≤ 150 ms' },
  });
}
