import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, publishOk, READER_TOKEN, startStore, type TestStore } from './harness.ts';

let store: TestStore;
let input: Workdir;
const asReader = () => ({ url: store.url, token: READER_TOKEN });

beforeAll(async () => {
  store = await startStore();
  input = await workdir();
  await publishOk(store, 'demo/web@1.0.0', [await input.file('web-1.tar.gz', 'one')]);
  await publishOk(store, 'demo/web@1.1.0', [await input.file('web-2.tar.gz', 'two')]);
  await publishOk(store, 'demo/api@2.0.0', [await input.file('api.tar.gz', 'api')]);
  await publishOk(store, 'private/vault@1', [await input.file('vault.bin', 'vault')]);
  expect((await arca(store, ['promote', 'demo/web@1.1.0', '--to', 'prod'])).code).toBe(0);
});

afterAll(async () => {
  await store?.close();
  await input?.remove();
});

describe('arca namespaces', () => {
  it('lists every namespace to an admin, one per line', async () => {
    const result = await arca(store, ['namespaces']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(['demo', 'private']);
  });

  it('lists only the namespaces the caller can read, under --json too', async () => {
    const result = await arca(asReader(), ['namespaces', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([{ name: 'demo' }]);
  });
});

describe('arca packages', () => {
  it("lists a namespace's packages with latest version and stages", async () => {
    const result = await arca(asReader(), ['packages', 'demo']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^api\s+2\.0\.0\s+\S+$/);
    expect(lines[1]).toMatch(/^web\s+1\.1\.0\s+\S+\s+\[prod=1\.1\.0\]$/);
  });

  it('follows every page with --all --json', async () => {
    const result = await arca(store, ['packages', 'demo', '--limit', '1', '--all', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ name: 'api', latestVersion: '2.0.0', stages: {} }),
      expect.objectContaining({ name: 'web', latestVersion: '1.1.0', stages: { prod: '1.1.0' } }),
    ]);
  });

  it('exits 5 for a namespace the caller cannot read, and 1 for a bad name', async () => {
    const refused = await arca(asReader(), ['packages', 'private']);
    expect(refused.code).toBe(5);
    expect(refused.stdout).toBe('');
    expect((await arca(store, ['packages', 'Bad!'])).code).toBe(1);
    expect((await arca(store, ['packages'])).code).toBe(1);
  });
});

describe('arca delete', () => {
  it('needs --reason, and refuses one with a control character, before asking the store', async () => {
    for (const args of [[], ['--reason', '   '], ['--reason', 'a\nb']]) {
      const result = await arca(store, ['delete', 'demo/web@1.0.0', ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/reason/);
    }
    expect(JSON.parse((await arca(store, ['show', 'demo/web@1.0.0', '--json'])).stdout).state).toBe(
      'available',
    );
  });

  it('exits 5 for a caller without the admin role', async () => {
    const result = await arca(asReader(), ['delete', 'demo/web@1.0.0', '--reason', 'nope']);
    expect(result.code).toBe(5);
  });

  it('exits 3 for a version a stage points at, naming the stage', async () => {
    const result = await arca(store, ['delete', 'demo/web@1.1.0', '--reason', 'CVE-2026-1']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('stage prod');
  });

  it('deletes a version: show says so, fetch exits 2, versions lists it only with --deleted, publish exits 3', async () => {
    const deleted = await arca(store, [
      'delete',
      'demo/web@1.0.0',
      '--reason',
      'CVE-2026-1234 in libfoo',
      '--json',
    ]);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ state: 'deleted', reason: 'CVE-2026-1234 in libfoo' });

    const shown = await arca(store, ['show', 'demo/web@1.0.0']);
    expect(shown.stdout).toMatch(/^demo\/web@1\.0\.0 {2}deleted\n/);
    expect(shown.stdout).toMatch(/\n {2}deleted \S+ by \S+: CVE-2026-1234 in libfoo\n/);

    const fetched = await arca(store, ['fetch', 'demo/web@1.0.0', '-o', `${input.path}/out`]);
    expect(fetched.code).toBe(2);
    expect(fetched.stderr).toContain('VersionDeleted');

    const listed = await arca(store, ['versions', 'demo/web', '--json']);
    expect(JSON.parse(listed.stdout).map((v: { version: string }) => v.version)).toEqual(['1.1.0']);
    const all = await arca(store, ['versions', 'demo/web', '--deleted', '--json']);
    expect(
      JSON.parse(all.stdout).map((v: { version: string; state: string }) => [v.version, v.state]),
    ).toEqual([
      ['1.1.0', 'available'],
      ['1.0.0', 'deleted'],
    ]);

    const again = await arca(store, ['publish', 'demo/web@1.0.0', `${input.path}/web-1.tar.gz`]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('VersionExists');
  });

  it('prints one line, and answers the same again for a deleted version', async () => {
    const result = await arca(store, ['delete', 'demo/web@1.0.0', '--reason', 'again']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('demo/web@1.0.0 deleted (CVE-2026-1234 in libfoo)');
  });
});
