import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, publish, settled } from '../support/client.ts';
import { SCOPED_TOKENS } from '../support/embedded.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const HOUR = 3600_000;

describeForEachBackend('deleting a version', (kind) => {
  let s: TestServer;
  const clock = new TestClock();
  const only = content('only-in-1', 2048);
  const shared = content('shared', 2048);
  const other = content('only-in-2', 2048);
  const path = (v: string, rest = '') => `/v1/packages/alpha/svc/versions/${v}${rest}`;
  const del = (v: string, reason = 'CVE-2026-0001', token?: string) =>
    call(s.url, 'DELETE', `${path(v)}?reason=${encodeURIComponent(reason)}`, undefined, token);
  const audit = async () =>
    (await call(s.url, 'GET', '/v1/audit?namespace=alpha&limit=1000')).body.items as {
      action: string;
      target: string;
      actor: string;
      details?: Record<string, unknown>;
    }[];

  beforeAll(async () => {
    s = await startTestServer(kind, { clock });
    const versions: Record<string, Record<string, Buffer>> = {
      '1': { 'only.bin': only, 'shared.bin': shared },
      '2': { 'shared.bin': shared, 'other.bin': other },
      '3': { 'a.bin': content('three') },
      '4': { 'a.bin': content('four') },
    };
    for (const [version, files] of Object.entries(versions)) {
      expect((await publish(s.url, { namespace: 'alpha', package: 'svc', version, files })).status).toBe(200);
      await settled(s.url, path(version));
    }
    expect((await call(s.url, 'POST', path('3', '/promote'), { stage: 'prod' })).status).toBe(200);
  });
  afterAll(async () => s?.close());

  it.each([
    ['no reason', path('1')],
    ['an empty reason', `${path('1')}?reason=`],
    ['a blank reason', `${path('1')}?reason=%20%20`],
    ['a reason of 513 characters', `${path('1')}?reason=${'x'.repeat(513)}`],
    ['a reason with a control character', `${path('1')}?reason=a%0Ab`],
    ['an unknown query field', `${path('1')}?reason=x&force=true`],
  ])('refuses a delete with %s with 400 InvalidRequest and changes nothing', async (_, target) => {
    const before = await s.snapshot();
    const res = await call(s.url, 'DELETE', target);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
    expect(await s.snapshot()).toEqual(before);
  });

  it('answers 404 for a version that does not exist', async () => {
    const res = await del('9');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NotFound');
  });

  it('refuses a version a stage points at with 409 Protected naming the stage, and changes nothing', async () => {
    const before = await s.snapshot();
    const res = await del('3');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'Protected', details: { stages: ['prod'], leases: [] } });
    expect(await s.snapshot()).toEqual(before);
    expect((await call(s.url, 'GET', path('3'))).body.state).toBe('available');
  });

  it('refuses a leased version with 409 Protected naming the lease, and deletes it once the lease ends', async () => {
    const lease = await call(s.url, 'POST', '/v1/leases', {
      namespace: 'alpha',
      package: 'svc',
      version: '4',
      holder: 'deploy-42',
      ttlSeconds: 3600,
    });
    expect(lease.status).toBe(201);
    const before = await s.snapshot();
    const res = await del('4');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'Protected',
      details: { stages: [], leases: [{ leaseId: lease.body.leaseId, holder: 'deploy-42' }] },
    });
    expect(await s.snapshot()).toEqual(before);
    expect((await call(s.url, 'DELETE', `/v1/leases/${lease.body.leaseId}`)).status).toBe(204);
    expect((await del('4', 'superseded')).status).toBe(204);
  });

  it('turns the version deleted at once, with who, when and why, and audits it', async () => {
    const me = (await call(s.url, 'GET', '/v1/whoami')).body.id;
    const before = clock.now().getTime();
    const res = await del('1', 'leaked secret: rotate the key');
    const after = clock.now().getTime();
    expect(res.status).toBe(204);
    const got = await call(s.url, 'GET', path('1'));
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      state: 'deleted',
      deletedBy: me,
      reason: 'leaked secret: rotate the key',
      stages: [],
    });
    const deletedAt = Date.parse(got.body.deletedAt);
    expect(deletedAt).toBeGreaterThanOrEqual(before);
    expect(deletedAt).toBeLessThanOrEqual(after);
    const events = (await audit()).filter((e) => e.action === 'version.delete' && e.target === 'alpha/svc@1');
    expect(events).toEqual([
      expect.objectContaining({ actor: me, details: { reason: 'leaked secret: rotate the key' } }),
    ]);
  });

  it('changes nothing when the version is deleted again', async () => {
    const before = await s.snapshot();
    expect((await del('1', 'again')).status).toBe(204);
    expect(await s.snapshot()).toEqual(before);
    expect((await call(s.url, 'GET', path('1'))).body.reason).toBe('leaked secret: rotate the key');
  });

  it('serves its files no more: 410 VersionDeleted, redirect or not', async () => {
    for (const query of ['', '?redirect=false']) {
      const res = await call(s.url, 'GET', path('1', `/files/only.bin${query}`));
      expect(res.status).toBe(410);
      expect(res.body.error.code).toBe('VersionDeleted');
    }
    expect((await call(s.url, 'GET', path('2', '/files/shared.bin'))).status).toBe(302);
  });

  it('lists it only with include=deleted', async () => {
    const listed = async (query = '') =>
      (await call(s.url, 'GET', `/v1/packages/alpha/svc/versions${query}`)).body.items.map(
        (v: { version: string }) => v.version,
      );
    expect(await listed()).toEqual(['3', '2']);
    expect(await listed('?include=deleted')).toEqual(['4', '3', '2', '1']);
    const page = await call(s.url, 'GET', '/v1/packages/alpha/svc/versions?limit=1');
    expect(page.body.items.map((v: { version: string }) => v.version)).toEqual(['3']);
    const next = await call(
      s.url,
      'GET',
      `/v1/packages/alpha/svc/versions?limit=1&cursor=${page.body.nextCursor}`,
    );
    expect(next.body.items.map((v: { version: string }) => v.version)).toEqual(['2']);
    expect(next.body.nextCursor ?? null).toBeNull();
    const wrongScope = `/v1/packages/alpha/svc/versions?include=deleted&cursor=${page.body.nextCursor}`;
    expect((await call(s.url, 'GET', wrongScope)).status).toBe(400);
    expect((await call(s.url, 'GET', '/v1/packages/alpha/svc/versions?include=all')).status).toBe(400);
  });

  it('never takes its number again: the same or other content answers 409 VersionExists', async () => {
    for (const files of [{ 'only.bin': only, 'shared.bin': shared }, { 'new.bin': content('new') }]) {
      const res = await call(s.url, 'POST', '/v1/uploads', {
        namespace: 'alpha',
        package: 'svc',
        version: '1',
        files: Object.entries(files).map(([name, data]) => ({
          name,
          size: data.length,
          sha256: sha256(data),
        })),
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('VersionExists');
    }
  });

  it('refuses to promote, lease or attest a deleted version', async () => {
    const promoted = await call(s.url, 'POST', path('1', '/promote'), { stage: 'dev' });
    expect(promoted.status).toBe(409);
    expect(promoted.body.error.code).toBe('NotPromotable');
    const lease = { namespace: 'alpha', package: 'svc', version: '1', holder: 'x', ttlSeconds: 60 };
    expect((await call(s.url, 'POST', '/v1/leases', lease)).status).toBe(409);
    expect((await call(s.url, 'GET', '/v1/packages/alpha/svc/stages/dev')).status).toBe(404);
    const envelope = {
      payloadType: 'application/vnd.in-toto+json',
      payload: 'e30=',
      signatures: [{ sig: 'AA==' }],
    };
    const attested = await call(s.url, 'POST', path('1', '/attestations'), envelope);
    expect(attested.status).toBe(409);
  });

  it('refuses a writer (not a namespace admin) with 403', async () => {
    const res = await call(s.url, 'DELETE', `${path('2')}?reason=x`, undefined, SCOPED_TOKENS.alphaWriter);
    expect(res.status).toBe(403);
    expect((await call(s.url, 'GET', path('2'))).body.state).toBe('available');
  });

  it('lets GC reclaim its bytes only where nothing else references them: a shared blob survives', async () => {
    await s.whenIdle();
    expect(await s.storedBlobs()).toEqual(expect.arrayContaining([sha256(only), sha256(shared)]));
    // The first run drops the deleted versions' references; their bytes wait out the blob grace (24 h).
    const first = (await call(s.url, 'POST', '/v1/gc/run', {})).body;
    expect(first.deleted).toMatchObject({ versions: 2, blobs: 0 });
    expect(await s.storedBlobs()).toContain(sha256(only));
    clock.advance(25 * HOUR);
    const second = (await call(s.url, 'POST', '/v1/gc/run', {})).body;
    expect(second.deleted.blobs).toBeGreaterThanOrEqual(1);
    const stored = await s.storedBlobs();
    expect(stored).not.toContain(sha256(only));
    expect(stored).toContain(sha256(shared));
    // The version that shares the blob still serves it, byte for byte.
    const { body } = await call(s.url, 'GET', path('2', '/files/shared.bin?redirect=false'));
    expect(sha256(Buffer.from(await (await fetch(body.url)).arrayBuffer()))).toBe(sha256(shared));
    // The deleted version stays known as deleted, and its number stays taken.
    const gone = await call(s.url, 'GET', path('1'));
    expect(gone.body).toMatchObject({ state: 'deleted', reason: 'leaked secret: rotate the key' });
    expect((await call(s.url, 'GET', path('1', '/files/only.bin'))).status).toBe(410);
    const again = await publish(s.url, {
      namespace: 'alpha',
      package: 'svc',
      version: '1',
      files: { 'only.bin': only },
    }).catch((e: Error) => e.message);
    expect(again).toMatch(/^create: 409/);
    const events = await audit();
    expect(
      events
        .filter((e) => e.action === 'gc.deleteVersion')
        .map((e) => e.target)
        .sort(),
    ).toEqual(['alpha/svc@1', 'alpha/svc@4']);
  });
});

describeForEachBackend('a delete racing promotions and leases', (kind) => {
  let s: TestServer;
  const ROUNDS = 6;
  const path = (v: string, rest = '') => `/v1/packages/race/svc/versions/${v}${rest}`;

  beforeAll(async () => {
    s = await startTestServer(kind);
    for (let i = 0; i < 2 * ROUNDS; i++) {
      await publish(s.url, {
        namespace: 'race',
        package: 'svc',
        version: `${i}`,
        files: { 'a.bin': content() },
      });
    }
    for (const version of ['rb1', 'rb2'])
      await publish(s.url, { namespace: 'race', package: 'svc', version, files: { 'a.bin': content() } });
    await s.whenIdle();
  });
  afterAll(async () => s?.close());

  it('deletes a past rollback target, which then is protected no more', async () => {
    expect((await call(s.url, 'POST', path('rb1', '/promote'), { stage: 'rb' })).status).toBe(200);
    expect((await call(s.url, 'POST', path('rb2', '/promote'), { stage: 'rb' })).status).toBe(200);
    expect((await call(s.url, 'GET', path('rb1'))).body).toMatchObject({ protected: true, stages: [] });
    expect((await call(s.url, 'DELETE', `${path('rb1')}?reason=rollback%20target`)).status).toBe(204);
    expect((await call(s.url, 'GET', path('rb1'))).body).toMatchObject({
      state: 'deleted',
      protected: false,
    });
    // Rolling back to it is refused.
    const rollback = await call(s.url, 'POST', path('rb1', '/promote'), { stage: 'rb' });
    expect(rollback.body.error.code).toBe('NotPromotable');
  });

  it('never leaves a deleted version promoted: one of the two is refused', async () => {
    await Promise.all(
      Array.from({ length: ROUNDS }, async (_, i) => {
        const [promoted, deleted] = await Promise.all([
          call(s.url, 'POST', path(`${i}`, '/promote'), { stage: `s${i}` }),
          call(s.url, 'DELETE', `${path(`${i}`)}?reason=race`),
        ]);
        const version = (await call(s.url, 'GET', path(`${i}`))).body;
        const stage = await call(s.url, 'GET', `/v1/packages/race/svc/stages/s${i}`);
        if (version.state === 'deleted') {
          expect(deleted.status).toBe(204);
          expect(promoted.status).toBe(409);
          expect(stage.status).toBe(404);
        } else {
          expect(promoted.status).toBe(200);
          expect(deleted.body.error.code).toBe('Protected');
          expect(stage.body.version).toBe(`${i}`);
        }
      }),
    );
  });

  it('never leaves a deleted version leased: one of the two is refused', async () => {
    await Promise.all(
      Array.from({ length: ROUNDS }, async (_, n) => {
        const v = `${ROUNDS + n}`;
        const [leased, deleted] = await Promise.all([
          call(s.url, 'POST', '/v1/leases', {
            namespace: 'race',
            package: 'svc',
            version: v,
            holder: 'deploy',
            ttlSeconds: 3600,
          }),
          call(s.url, 'DELETE', `${path(v)}?reason=race`),
        ]);
        const version = (await call(s.url, 'GET', path(v))).body;
        if (version.state === 'deleted') {
          expect(deleted.status).toBe(204);
          expect(leased.status).toBe(409);
          expect(version.leases).toEqual([]);
        } else {
          expect(leased.status).toBe(201);
          expect(deleted.body.error.code).toBe('Protected');
          expect(version.leases.map((l: { leaseId: string }) => l.leaseId)).toEqual([leased.body.leaseId]);
        }
      }),
    );
  });
});
