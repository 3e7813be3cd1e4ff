import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, publish, settled } from '../support/client.ts';
import { content } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

describeForEachBackend('leases', (kind) => {
  let s: TestServer;
  const clock = new TestClock();
  const lease = (o: Record<string, unknown> = {}) =>
    call(s.url, 'POST', '/v1/leases', {
      namespace: 'demo',
      package: 'app',
      version: '1.0.0',
      holder: 'deploy #42',
      ttlSeconds: 900,
      ...o,
    });

  beforeAll(async () => {
    s = await startTestServer(kind, { clock });
    await publish(s.url, { version: '1.0.0', files: { 'a.bin': content('leased') } });
    await settled(s.url, '/v1/packages/demo/app/versions/1.0.0');
  });
  afterAll(async () => s?.close());

  it('acquires, renews and releases a lease, listed on the version while active', async () => {
    const acquired = await lease();
    expect(acquired.status).toBe(201);
    expect(Date.parse(acquired.body.expiresAt) - clock.now().getTime()).toBeGreaterThan(890_000);
    const v = await call(s.url, 'GET', '/v1/packages/demo/app/versions/1.0.0');
    expect(v.body.leases).toEqual([
      { leaseId: acquired.body.leaseId, holder: 'deploy #42', expiresAt: acquired.body.expiresAt },
    ]);
    expect(v.body.protected).toBe(true);
    const renewed = await call(s.url, 'POST', `/v1/leases/${acquired.body.leaseId}/renew`, {
      ttlSeconds: 3600,
    });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.body.expiresAt)).toBeGreaterThan(Date.parse(acquired.body.expiresAt));
    expect((await call(s.url, 'DELETE', `/v1/leases/${acquired.body.leaseId}`)).status).toBe(204);
    expect((await call(s.url, 'DELETE', `/v1/leases/${acquired.body.leaseId}`)).status).toBe(404);
    expect((await call(s.url, 'GET', '/v1/packages/demo/app/versions/1.0.0')).body).toMatchObject({
      leases: [],
      protected: false,
    });
  });

  it('stops protecting once expired, and an expired lease cannot be renewed', async () => {
    const acquired = await lease({ ttlSeconds: 60 });
    clock.advance(61);
    try {
      expect((await call(s.url, 'GET', '/v1/packages/demo/app/versions/1.0.0')).body).toMatchObject({
        leases: [],
        protected: false,
      });
      const renew = await call(s.url, 'POST', `/v1/leases/${acquired.body.leaseId}/renew`, {
        ttlSeconds: 60,
      });
      expect(renew.status).toBe(409);
      expect(renew.body.error.code).toBe('Conflict');
    } finally {
      clock.advance(-61);
    }
  });

  it.each([
    ['a ttl under 60 s', { ttlSeconds: 59 }, 400, 'InvalidRequest'],
    ['a ttl over a day', { ttlSeconds: 86_401 }, 400, 'InvalidRequest'],
    ['a fractional ttl', { ttlSeconds: 60.5 }, 400, 'InvalidRequest'],
    ['an empty holder', { holder: '' }, 400, 'InvalidRequest'],
    ['an unknown field', { reason: 'x' }, 400, 'InvalidRequest'],
    ['a missing version', { version: '9.9.9' }, 404, 'NotFound'],
  ])('refuses %s and changes nothing', async (_t, body, status, code) => {
    const before = await s.snapshot();
    const res = await lease(body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(await s.snapshot()).toEqual(before);
  });

  it('answers 404 to renewing or releasing an unknown lease and 400 to a malformed id', async () => {
    expect(
      (await call(s.url, 'POST', '/v1/leases/01ARZ3NDEKTSV4RRFFQ69G5FAV/renew', { ttlSeconds: 60 })).status,
    ).toBe(404);
    expect((await call(s.url, 'DELETE', '/v1/leases/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404);
    expect((await call(s.url, 'DELETE', '/v1/leases/nope')).status).toBe(400);
  });
});
