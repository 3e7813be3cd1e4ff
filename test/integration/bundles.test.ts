import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The Lambda bundles, built the way the stack ships them. The AWS SDK is bundled, not left to the
 * Node.js 22 runtime's copy: the runtime's SDK moves under us between deploys, and a pinned one
 * means the code that passed these tests is the code that runs. ESM output needs `require` for the
 * few CommonJS dependencies, hence the banner.
 */
const LAMBDA_BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'silent',
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
});
