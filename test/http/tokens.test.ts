import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, publish } from '../support/client.ts';
import { SCOPED_TOKENS } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const DAY = 86_400;

describeForEachBackend('Arca tokens', (kind) => {
  let s: TestServer;
  const clock = new TestClock();
  beforeAll(async () => {
    s = await startTestServer(kind, { clock });
  });
  afterAll(async () => s?.close());

  const mint = (body: unknown, token?: string) => call(s.url, 'POST', '/v1/tokens', body, token);

  it('creates a token shown once, which publishes, is listed without its secret, and answers 401 once revoked', async () => {
    const created = await mint({ name: 'ci-payments', roles: { payments: ['write'] }, ttlSeconds: 7 * DAY });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'ci-payments',
      roles: { payments: ['write'] },
      createdBy: 'admin',
    });
    expect(created.body.token).toMatch(/^arca_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(created.body.expiresAt) - Date.parse(created.body.createdAt)).toBe(7 * DAY * 1000);
    const token = created.body.token as string;

    const published = await publish(s.url, {
      namespace: 'payments',
      version: '1.0.0',
      files: { 'a.bin': content('with-token') },
      token,
    });
    expect(published.status).toBe(200);
    expect(published.body.createdBy).toBe(`token:${created.body.id}`);
    // write implies read in its namespace, and nothing elsewhere
    expect(
      (await call(s.url, 'GET', '/v1/packages/payments/app/versions/1.0.0', undefined, token)).status,
    ).toBe(200);
    expect((await call(s.url, 'GET', '/v1/packages/other/app/versions', undefined, token)).status).toBe(403);

    const listed = await call(s.url, 'GET', '/v1/tokens');
    const item = listed.body.items.find((t: { id: string }) => t.id === created.body.id);
    expect(item).toMatchObject({ name: 'ci-payments', roles: { payments: ['write'] } });
    expect(item.lastUsedAt).toBeDefined();
    expect(JSON.stringify(listed.body)).not.toContain(token.slice(-43));
    expect(Object.keys(item).sort()).toEqual([
      'createdAt',
      'createdBy',
      'expiresAt',
      'id',
      'lastUsedAt',
      'name',
      'roles',
    ]);

    expect((await call(s.url, 'DELETE', `/v1/tokens/${created.body.id}`)).status).toBe(204);
    const after = await call(s.url, 'GET', '/v1/whoami', undefined, token);
    expect(after.status).toBe(401);
    expect((await call(s.url, 'DELETE', `/v1/tokens/${created.body.id}`)).status).toBe(404);
    expect(
      (await call(s.url, 'GET', '/v1/tokens')).body.items.map((t: { id: string }) => t.id),
    ).not.toContain(created.body.id);
  });

  it('stops authenticating a token once it expires', async () => {
    const created = await mint({ name: 'short', roles: { demo: ['read'] }, ttlSeconds: 60 });
    const token = created.body.token as string;
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, token)).status).toBe(200);
    clock.advance(61);
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, token)).status).toBe(401);
  });

  it('answers 401 to a token with a wrong secret and to one that was never issued', async () => {
    const created = await mint({ name: 'real', roles: { demo: ['read'] } });
    const token = created.body.token as string;
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, wrong)).status).toBe(401);
    expect(
      (await call(s.url, 'GET', '/v1/whoami', undefined, `arca_01JZZZZZZZZZZZZZZZZZZZZZZZ_${'x'.repeat(43)}`))
        .status,
    ).toBe(401);
    expect(Date.parse(created.body.expiresAt) - Date.parse(created.body.createdAt)).toBe(90 * DAY * 1000);
  });

  it('lets a namespace admin manage tokens within its namespaces only', async () => {
    const { alphaAdmin } = SCOPED_TOKENS;
    const own = await mint({ name: 'alpha-ci', roles: { alpha: ['write', 'promote'] } }, alphaAdmin);
    expect(own.status).toBe(201);
    for (const roles of [{ beta: ['read'] }, { '*': ['read'] }, { alpha: ['read'], beta: ['read'] }]) {
      const refused = await mint({ name: 'too-much', roles }, alphaAdmin);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('Forbidden');
    }
    const other = await mint({ name: 'beta-ci', roles: { beta: ['write'] } });
    const listed = await call(s.url, 'GET', '/v1/tokens', undefined, alphaAdmin);
    const names = listed.body.items.map((t: { name: string }) => t.name);
    expect(names).toContain('alpha-ci');
    expect(names).not.toContain('beta-ci');
    expect((await call(s.url, 'DELETE', `/v1/tokens/${other.body.id}`, undefined, alphaAdmin)).status).toBe(
      403,
    );
    expect((await call(s.url, 'DELETE', `/v1/tokens/${own.body.id}`, undefined, alphaAdmin)).status).toBe(
      204,
    );
    // A writer manages no token at all.
    expect((await mint({ name: 'x', roles: { alpha: ['read'] } }, SCOPED_TOKENS.alphaWriter)).status).toBe(
      403,
    );
  });

  it('refuses a malformed token request with 400 naming the field, and changes nothing', async () => {
    const before = await s.snapshot();
    const bad: [unknown, string][] = [
      [{ name: 'x', roles: {} }, 'roles'],
      [{ name: 'x', roles: { alpha: [] } }, 'roles'],
      [{ name: 'x', roles: { alpha: ['owner'] } }, 'roles'],
      [{ name: 'x', roles: { 'Not A Namespace': ['read'] } }, 'roles'],
      [{ name: '', roles: { alpha: ['read'] } }, 'name'],
      [{ name: 'has space', roles: { alpha: ['read'] } }, 'name'],
      [{ name: 'x', roles: { alpha: ['read'] }, ttlSeconds: 59 }, 'ttlSeconds'],
      [{ name: 'x', roles: { alpha: ['read'] }, ttlSeconds: 366 * DAY }, 'ttlSeconds'],
      [{ name: 'x', roles: { alpha: ['read'] }, admin: true }, ''],
    ];
    for (const [body, field] of bad) {
      const res = await mint(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('InvalidRequest');
      expect(JSON.stringify(res.body.error), JSON.stringify(body)).toContain(field);
    }
    expect((await call(s.url, 'DELETE', '/v1/tokens/not-an-id')).status).toBe(400);
    expect(await s.snapshot()).toEqual(before);
  });

  it('answers whoami with the caller as Arca sees it', async () => {
    expect((await call(s.url, 'GET', '/v1/whoami')).body).toEqual({
      id: 'admin',
      kind: 'admin',
      admin: true,
      roles: {},
      claims: {},
    });
    const created = await mint({ name: 'reader', roles: { demo: ['read'] } });
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, created.body.token)).body).toEqual({
      id: `token:${created.body.id}`,
      kind: 'token',
      admin: false,
      roles: { demo: ['read'] },
      claims: {},
    });
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, null)).status).toBe(401);
  });
});
