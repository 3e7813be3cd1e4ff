import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, publish } from '../support/client.ts';
import { SCOPED_TOKENS } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const names = (items: { name: string }[]) => items.map((i) => i.name);

describeForEachBackend('finding namespaces and packages', (kind) => {
  let s: TestServer;
  /** An Arca token that reads only `omega`, a namespace with nothing in it. */
  let omegaReader = '';
  const publishTo = async (namespace: string, pkg: string, version: string) => {
    const res = await publish(s.url, { namespace, package: pkg, version, files: { 'a.bin': content() } });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    s = await startTestServer(kind);
    await publishTo('alpha', 'app', '1');
    await publishTo('alpha', 'app', '2');
    await publishTo('alpha', 'lib', '0.1.0');
    await publishTo('alpha', 'gone', '1');
    await publishTo('alpha-tools', 'cli', '1');
    await publishTo('beta', 'secret', '1');
    await s.whenIdle();
    expect(
      (await call(s.url, 'POST', '/v1/packages/alpha/app/versions/1/promote', { stage: 'prod' })).status,
    ).toBe(200);
    expect(
      (await call(s.url, 'POST', '/v1/packages/alpha/app/versions/2/promote', { stage: 'dev' })).status,
    ).toBe(200);
    expect((await call(s.url, 'DELETE', '/v1/packages/alpha/gone/versions/1?reason=mistake')).status).toBe(
      204,
    );
    expect((await call(s.url, 'PUT', '/v1/namespaces/gamma/policy', {})).status).toBe(200);
    const token = await call(s.url, 'POST', '/v1/tokens', { name: 'omega', roles: { omega: ['read'] } });
    expect(token.status).toBe(201);
    omegaReader = token.body.token;
  });
  afterAll(async () => s?.close());

  it('lists every namespace with versions or a policy to a store admin, sorted', async () => {
    const res = await call(s.url, 'GET', '/v1/namespaces');
    expect(res.status).toBe(200);
    expect(names(res.body.items)).toEqual(['alpha', 'alpha-tools', 'beta', 'gamma']);
  });

  it('lists only the namespaces each caller can read', async () => {
    const seen = async (token: string) =>
      names((await call(s.url, 'GET', '/v1/namespaces', undefined, token)).body.items);
    expect(await seen(SCOPED_TOKENS.alphaReader)).toEqual(['alpha']);
    expect(await seen(SCOPED_TOKENS.alphaAdmin)).toEqual(['alpha']);
    expect(await seen(SCOPED_TOKENS.betaWriter)).toEqual(['beta']);
    // A role in a namespace that holds nothing names nothing.
    expect(await seen(omegaReader)).toEqual([]);
    expect((await call(s.url, 'GET', '/v1/namespaces', undefined, null)).status).toBe(401);
  });

  it("lists a namespace's packages with their latest version, update time and stages", async () => {
    const res = await call(
      s.url,
      'GET',
      '/v1/namespaces/alpha/packages',
      undefined,
      SCOPED_TOKENS.alphaReader,
    );
    expect(res.status).toBe(200);
    const app = (await call(s.url, 'GET', '/v1/packages/alpha/app/versions/2')).body;
    const gone = (await call(s.url, 'GET', '/v1/packages/alpha/gone/versions/1')).body;
    expect(res.body.items).toEqual([
      { name: 'app', latestVersion: '2', updatedAt: app.createdAt, stages: { dev: '2', prod: '1' } },
      // Every version of it was deleted: no latest version, and it is still found.
      { name: 'gone', latestVersion: null, updatedAt: gone.createdAt, stages: {} },
      { name: 'lib', latestVersion: '0.1.0', updatedAt: expect.any(String), stages: {} },
    ]);
    expect(res.body.nextCursor ?? null).toBeNull();
  });

  it('pages with the cursor, bound to its namespace', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let first = '';
    do {
      const res = await call(
        s.url,
        'GET',
        `/v1/namespaces/alpha/packages?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(1);
      seen.push(...names(res.body.items));
      cursor = res.body.nextCursor ?? undefined;
      if (!first && cursor) first = cursor;
    } while (cursor);
    expect(seen).toEqual(['app', 'gone', 'lib']);
    expect((await call(s.url, 'GET', `/v1/namespaces/beta/packages?cursor=${first}`)).status).toBe(400);
    expect((await call(s.url, 'GET', `/v1/namespaces/alpha/packages?cursor=${first}x`)).status).toBe(400);
  });

  it('keeps namespaces apart whose names share a prefix', async () => {
    const res = await call(s.url, 'GET', '/v1/namespaces/alpha-tools/packages');
    expect(names(res.body.items)).toEqual(['cli']);
  });

  it('answers a namespace the caller cannot read with 403, whether it exists or not', async () => {
    for (const ns of ['beta', 'nosuch']) {
      const res = await call(
        s.url,
        'GET',
        `/v1/namespaces/${ns}/packages`,
        undefined,
        SCOPED_TOKENS.alphaReader,
      );
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('Forbidden');
      expect(JSON.stringify(res.body)).not.toContain('secret');
    }
    const empty = await call(s.url, 'GET', '/v1/namespaces/omega/packages', undefined, omegaReader);
    expect(empty.status).toBe(200);
    expect(empty.body.items).toEqual([]);
  });

  it.each([['limit=0'], ['limit=101'], ['limit=x'], ['color=red']])('refuses ?%s with 400', async (query) => {
    const res = await call(s.url, 'GET', `/v1/namespaces/alpha/packages?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
  });

  it('refuses a bad namespace name and a query on the namespace list with 400', async () => {
    expect((await call(s.url, 'GET', '/v1/namespaces/Alpha/packages')).status).toBe(400);
    expect((await call(s.url, 'GET', '/v1/namespaces?limit=5')).status).toBe(400);
  });
});
