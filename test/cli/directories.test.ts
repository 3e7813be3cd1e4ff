import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, BACKEND, PART_SIZE, startStore, type TestStore } from './harness.ts';

/** Every regular file under `dir`, as `/`-joined paths relative to it, sorted. */
async function treeOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) =>
      join(e.parentPath, e.name)
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
    )
    .sort();
}

/**
 * Files in the tree: 1,000 on the embedded backend. On moto a transaction on items this size takes
 * seconds and each scan rewrites the session's file list, so the AWS run publishes 150 (still a
 * staged commit of more than 100 items); the 1,000-file commit on DynamoDB, killed half-way, is
 * tested at the store level (test/integration/dynamoDbStagedCommit.test.ts).
 */
const FILES = BACKEND === 'aws' ? 150 : 1000;
/** From this index on, every file repeats an earlier one's bytes (shared blobs). */
const SHARED_FROM = Math.floor(FILES * 0.75);

/**
 * FILES files under `dist/`: nested up to 5 levels, sizes from empty to above one multipart part,
 * and a quarter of them copies of others (shared blobs: their bytes go up once).
 */
async function writeTree(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const unique: Buffer[] = [];
  for (let i = 0; i < FILES; i++) {
    const depth = i % 5;
    const dirs = Array.from({ length: depth }, (_, d) => `d${d}-${i % (d + 3)}`);
    const name = ['dist', ...dirs, `file-${i}.${['js', 'css', 'map', 'txt'][i % 4]}`].join('/');
    let bytes: Buffer;
    if (i >= SHARED_FROM) bytes = unique[i % SHARED_FROM]!;
    else if (i === 7) bytes = randomBytes(PART_SIZE + 1234);
    else if (i % 50 === 0) bytes = Buffer.alloc(0);
    else bytes = randomBytes(i % 10 === 0 ? 64 * 1024 + i : 1024 + (i % 97));
    unique.push(bytes);
    files.set(name, bytes);
    await mkdir(join(root, ...name.split('/').slice(0, -1)), { recursive: true });
    await writeFile(join(root, name), bytes);
  }
  return files;
}

describe('arca publish and fetch of a directory', () => {
  let store: TestStore;
  let input: Workdir;
  let output: Workdir;
  let tree: Map<string, Buffer>;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
    output = await workdir();
    tree = await writeTree(input.path);
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
    await output.remove();
  });

  it(`publishes a ${FILES}-file tree with relative names and fetches it back byte-identical into an empty directory`, async () => {
    const published = await arca(store, [
      'publish',
      'demo/site@1.0.0',
      join(input.path, 'dist'),
      '--wait',
      '--json',
    ]);
    expect(published.code, published.stderr).toBe(0);
    const version = JSON.parse(published.stdout);
    expect(version.state).toBe('available');
    expect(version.files.map((f: { name: string }) => f.name).sort()).toEqual([...tree.keys()].sort());

    const dir = join(output.path, 'site');
    const fetched = await arca(store, ['fetch', 'demo/site@1.0.0', '-o', dir, '--json']);

    expect(fetched.code, fetched.stderr).toBe(0);
    expect(await treeOf(dir)).toEqual([...tree.keys()].sort());
    for (const [name, bytes] of tree)
      expect((await readFile(join(dir, name))).equals(bytes), name).toBe(true);
  }, 600_000);

  it('fetches one file of the tree by its path name', async () => {
    const dir = join(output.path, 'one');

    const result = await arca(store, ['fetch', 'demo/site@1.0.0', 'dist/d0-1/file-1.css', '-o', dir]);

    expect(result.code, result.stderr).toBe(0);
    expect(await treeOf(dir)).toEqual(['dist/d0-1/file-1.css']);
  }, 120_000);

  it('refuses to write through a symlink planted in the output directory, before any byte is written', async () => {
    const outside = join(output.path, 'outside');
    const dir = join(output.path, 'planted');
    await mkdir(outside, { recursive: true });
    await mkdir(dir, { recursive: true });
    await symlink(outside, join(dir, 'dist'));

    const result = await arca(store, ['fetch', 'demo/site@1.0.0', '-o', dir]);

    expect(result.code).toBe(4);
    expect(result.stderr).toContain('UnsafeName');
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(dir)).toEqual(['dist']);
  }, 120_000);

  it('refuses to publish a tree holding a symlink, and a name outside the rule, sending nothing', async () => {
    const bad = await workdir();
    await mkdir(join(bad.path, 'dist'));
    await writeFile(join(bad.path, 'dist', 'ok.js'), 'ok');
    await symlink('/etc/passwd', join(bad.path, 'dist', 'passwd'));
    const linked = await arca(store, ['publish', 'demo/bad@1.0.0', join(bad.path, 'dist')]);
    await bad.remove();

    expect(linked.code).toBe(1);
    expect(linked.stderr).toContain('symlinks are not followed');
    const hidden = await workdir();
    await mkdir(join(hidden.path, 'dist'));
    await writeFile(join(hidden.path, 'dist', '.env'), 'SECRET=1');
    const dotted = await arca(store, ['publish', 'demo/bad@1.0.0', join(hidden.path, 'dist')]);
    await hidden.remove();

    expect(dotted.code).toBe(1);
    expect(dotted.stderr).toContain('invalidSegment');
    expect((await arca(store, ['versions', 'demo/bad'])).stdout).not.toContain('1.0.0');
  }, 120_000);
});
