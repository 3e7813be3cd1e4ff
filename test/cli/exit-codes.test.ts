import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, EICAR, READER_TOKEN, startStore, type TestStore } from './harness.ts';

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('arca exit codes', () => {
  let store: TestStore;
  let input: Workdir;
  let file: string;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
    file = await input.file('app.txt', 'app\n');
    expect((await arca(store, ['publish', 'demo/codes@1.0.0', file, '--wait'])).code).toBe(0);
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
  });

  it('exits 0 when the command succeeds', async () => {
    const result = await arca(store, ['versions', 'demo/codes']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^1\.0\.0\s+available/);
  });

  it.each([
    ['a malformed reference', ['publish', 'not-a-ref', 'x']],
    ['an unknown option', ['show', 'demo/codes@1.0.0', '--colour']],
    ['an unknown command', ['frobnicate']],
    ['a publish without files', ['publish', 'demo/codes@9']],
  ])('exits 1 for %s', async (_, args) => {
    const result = await arca(store, args);

    expect(result.code).toBe(1);
  });

  it('exits 2 when the version does not exist, printing the server’s code and message', async () => {
    const result = await arca(store, ['show', 'demo/codes@9.9.9']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('NotFound');
  });

  it('exits 3 when the version already exists with other content', async () => {
    const other = await input.file('other.txt', 'other content\n');
    const result = await arca(store, ['publish', 'demo/codes@1.0.0', other]);

    expect(result.code).toBe(3);
    expect(result.stderr).toContain('VersionExists');
  });

  it('exits 4 when fetching a version the scan quarantined', async () => {
    const infected = await input.file('eicar.com', EICAR);
    expect((await arca(store, ['publish', 'demo/codes@bad', infected, '--wait'])).code).toBe(4);

    const result = await arca(store, ['fetch', 'demo/codes@bad', '-o', input.path]);

    expect(result.code).toBe(4);
    expect(result.stderr).toContain('EICAR-Test-File');
  });

  it('exits 5 without a valid token', async () => {
    const result = await arca(store, ['show', 'demo/codes@1.0.0'], { ARCA_TOKEN: 'wrong' });

    expect(result.code).toBe(5);
    expect(result.stderr).toContain('Unauthenticated: a valid bearer token is required');
  });

  it('exits 5 when the token may not do it', async () => {
    const result = await arca(store, ['publish', 'demo/codes@2.0.0', file, '--token', READER_TOKEN]);

    expect(result.code).toBe(5);
    expect(result.stderr).toContain('Forbidden');
  });

  it('exits 10 when the server stays unreachable after retries', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;

    const result = await arca(store, ['show', 'demo/codes@1.0.0', '--retries', '2'], { ARCA_URL: url });

    expect(result.code).toBe(10);
    expect(result.stderr.match(/retrying GET/g)).toHaveLength(2);
  });
});
