import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, PART_SIZE, publishOk, startStore, type TestStore } from './harness.ts';

const sameBytes = async (a: string, b: string) => (await readFile(a)).equals(await readFile(b));

describe('arca fetch', () => {
  let store: TestStore;
  let input: Workdir;
  let output: Workdir;
  let small: string;
  let big: string;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
    output = await workdir();
    small = await input.file('config.json', '{"replicas":3}\n');
    big = await input.file('image.bin', PART_SIZE + 777);
    await publishOk(store, 'demo/svc@2.0.0', [small, big]);
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
    await output.remove();
  });

  it('writes byte-identical files into the output directory', async () => {
    const dir = join(output.path, 'all');

    const result = await arca(store, ['fetch', 'demo/svc@2.0.0', '-o', dir, '--json']);

    expect(result.code).toBe(0);
    expect(await sameBytes(join(dir, 'config.json'), small)).toBe(true);
    expect(await sameBytes(join(dir, 'image.bin'), big)).toBe(true);
    expect(JSON.parse(result.stdout).files).toHaveLength(2);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'image.bin']);
  });

  it('fetches only the files named', async () => {
    const dir = join(output.path, 'one');

    const result = await arca(store, ['fetch', 'demo/svc@2.0.0', 'config.json', '-o', dir]);

    expect(result.code).toBe(0);
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it('exits 2 for a file the version does not have', async () => {
    const result = await arca(store, ['fetch', 'demo/svc@2.0.0', 'missing.txt', '-o', output.path]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('has no file missing.txt');
  });

  it('exits 2 cleanly when the name after @ is neither a version nor a stage', async () => {
    const result = await arca(store, ['fetch', 'demo/svc@prod', '-o', output.path]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('NotFound: demo/svc@prod: no version or stage named prod');
  });

  it('refuses tampered bytes: exits 4 and leaves neither the file nor a partial one', async () => {
    const tampered = await input.file('tampered.bin', 100_000);
    const version = JSON.parse(
      (await arca(store, ['publish', 'demo/tamper@1.0.0', tampered, '--wait', '--json'])).stdout,
    );
    const sha256: string = version.files[0].sha256;
    await store.tamper(sha256);
    const dir = join(output.path, 'tampered');

    const result = await arca(store, ['fetch', 'demo/tamper@1.0.0', '-o', dir]);

    expect(result.code).toBe(4);
    expect(result.stderr).toContain('DigestMismatch');
    expect(await readdir(dir)).toEqual([]);
  });
});
