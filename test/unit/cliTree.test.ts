import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareTree } from '../../cli/tree.ts';

describe('prepareTree (where arca fetch writes a version)', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'arca-tree-'));
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('creates the directories of path names and answers each target inside the output directory', async () => {
    const targets = await prepareTree(join(root, 'out'), ['dist/js/app.js', 'dist/index.html', 'README']);

    expect(targets.get('dist/js/app.js')).toBe(join(root, 'out', 'dist', 'js', 'app.js'));
    expect((await readdir(join(root, 'out', 'dist'))).sort()).toEqual(['js']);
  });

  it.each([
    ['a name climbing out', ['ok.txt', '../escape.txt']],
    ['an absolute name', ['/tmp/escape.txt']],
    ['a dot segment inside', ['dist/../../escape.txt']],
    ['a backslash', ['..\\escape.txt']],
    ['a NUL', ['a\u0000b']],
    ['two names for one path', ['dist/app.js', 'dist/app.js']],
    ['a file that another name needs as a directory', ['dist', 'dist/app.js']],
  ])('refuses %s before creating anything (exit 4, UnsafeName)', async (_, names) => {
    const out = join(root, 'out');

    await expect(prepareTree(out, names)).rejects.toMatchObject({ exitCode: 4, code: 'UnsafeName' });

    expect(await readdir(root)).toEqual([]);
  });
});
