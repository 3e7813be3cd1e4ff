import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LAMBDA_ESBUILD_OPTIONS } from '../../functions/config/bundling.ts';

/** The Lambda bundles, built the way the stack ships them (functions/config/bundling.ts). */
const LAMBDA_BUNDLE_OPTIONS: BuildOptions = {
  ...LAMBDA_ESBUILD_OPTIONS,
  mainFields: [...LAMBDA_ESBUILD_OPTIONS.mainFields],
  external: [...LAMBDA_ESBUILD_OPTIONS.external],
};

const MIB = 1024 * 1024;

async function bundle(entry: string): Promise<Uint8Array> {
  const result = await build({ ...LAMBDA_BUNDLE_OPTIONS, entryPoints: [entry], write: false });
  expect(result.outputFiles).toHaveLength(1);
  return result.outputFiles[0]!.contents;
}

/** Loads a bundle as Lambda would; the handlers read their environment lazily, so none is needed. */
async function load(code: Uint8Array): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-bundle-'));
  try {
    const file = join(dir, 'index.mjs');
    await writeFile(file, code);
    return await import(pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('Lambda bundles', () => {
  it('bundles the API handler, SDK included, under 1 MiB, into a module that loads', async () => {
    const code = await bundle('functions/handlers/api.ts');
    console.log(`api bundle: ${(code.length / 1024).toFixed(0)} KiB`);
    expect(code.length).toBeLessThan(MIB);
    expect(typeof (await load(code)).handler).toBe('function');
  });

  it('bundles the scan handler into a module that loads', async () => {
    const code = await bundle('functions/handlers/scan.ts');
    console.log(`scan bundle: ${(code.length / 1024).toFixed(0)} KiB`);
    expect(typeof (await load(code)).handler).toBe('function');
  });

  it('bundles the OSV re-match handler into a module that loads', async () => {
    const code = await bundle('functions/handlers/rematch.ts');
    expect(typeof (await load(code)).handler).toBe('function');
  });

  it('bundles the ClamAV image entry points (as infra/clamav/Dockerfile does) into a module that loads', async () => {
    const loaded = await load(await bundle('functions/handlers/clamav.ts'));
    expect(typeof loaded.scan).toBe('function');
    expect(typeof loaded.refresh).toBe('function');
  });
});
