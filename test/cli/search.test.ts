import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, startStore, type TestStore } from './harness.ts';

describe('arca search', () => {
  let store: TestStore;
  let input: Workdir;
  let shared: string;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
    shared = await input.file('api.tar.gz', 5000);
    const other = await input.file('notes.txt', 'other\n');
    for (const [ref, files, commit] of [
      ['demo/api@1.0.0', [shared], '9f1c'],
      ['demo/api@1.0.1', [other], '9f1c'],
      ['demo/web@2.0.0', [shared, other], 'a0b1'],
    ] as const) {
      const result = await arca(store, ['publish', ref, ...files, '--meta', `commit=${commit}`, '--wait']);
      expect(result.code, result.stderr).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await store.close();
    await input.remove();
  });

  it('finds the versions holding a file by its sha256', async () => {
    const hex = createHash('sha256')
      .update(await readFile(shared))
      .digest('hex');

    const result = await arca(store, ['search', '--sha256', hex]);

    expect(result.code, result.stderr).toBe(0);
    expect(
      result.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['demo/api@1.0.0', 'demo/web@2.0.0']);
  });

  it('finds the versions built from one commit, newest first, as JSON', async () => {
    const result = await arca(store, ['search', 'demo', '--meta', 'commit=9f1c', '--json']);

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).map((v: { version: string }) => v.version)).toEqual(['1.0.1', '1.0.0']);
  });

  it('exits 1 without a criterion, before any request', async () => {
    const result = await arca({ url: 'http://127.0.0.1:9', token: '' }, [
      'search',
      'demo',
      '--meta',
      'commit',
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--meta <key>=<value>');
  });
});
