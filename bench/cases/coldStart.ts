import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_ESBUILD_OPTIONS } from '../../functions/config/bundling.ts';
import type { BenchContext } from '../lib/context.ts';
import { runToEnd } from '../lib/processes.ts';
import { median } from '../lib/stats.ts';

const CASE = '6 Lambda cold-start proxy';

/** The bundle as the stack ships it (functions/config/bundling.ts). */
async function bundle(entry: string, outfile: string): Promise<number> {
  await build({
    ...LAMBDA_ESBUILD_OPTIONS,
    mainFields: [...LAMBDA_ESBUILD_OPTIONS.mainFields],
    external: [...LAMBDA_ESBUILD_OPTIONS.external],
    entryPoints: [entry],
    outfile,
  });
  return (await stat(outfile)).size;
}

const IMPORT_TIMER =
  'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';

/** Milliseconds to import `file` in a fresh Node process (Node's own start-up excluded). */
async function importOnce(file: string): Promise<number> {
  const run = await runToEnd('node', ['--input-type=module', '-e', IMPORT_TIMER, pathToFileURL(file).href]);
  const ms = Number(run.stdout);
  if (run.code !== 0 || !Number.isFinite(ms))
    throw new Error(`importing ${file} failed: ${run.stderr.slice(0, 300)}`);
  return ms;
}

/**
 * Case 6: for each Lambda handler that exists, its bundle size and the median time to import it in a
 * fresh Node process — the part of a cold start the code controls (the runtime's own start is not ours).
 */
export async function coldStart(ctx: BenchContext, handlersDir = join(ctx.repoRoot, 'functions/handlers')) {
  const entries = (await readdir(handlersDir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .sort();
  if (entries.length === 0) {
    ctx.add({
      case: CASE,
      name: 'handlers',
      value: null,
      unit: '',
      better: 'lower',
      status: 'no handlers yet',
    });
    return;
  }
  for (const entry of entries) {
    const name = basename(entry, '.ts');
    ctx.progress(`cold start: ${name}`);
    const outfile = join(ctx.tmp, 'bundles', `${name}.mjs`);
    const size = await bundle(join(handlersDir, entry), outfile);
    const times: number[] = [];
    for (let i = 0; i < ctx.scale.coldStartImports; i++) times.push(await importOnce(outfile));
    ctx.add({
      case: CASE,
      name: `${name} handler: bundle size`,
      value: size / 1024,
      unit: 'KiB',
      better: 'lower',
    });
    ctx.add({
      case: CASE,
      name: `${name} handler: import, median of ${times.length} fresh processes`,
      value: median(times),
      unit: 'ms',
      better: 'lower',
    });
  }
}
