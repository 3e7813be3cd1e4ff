import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, createUpload, publish, settled, uploadAll } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const DAY = 86_400;

describeForEachBackend('retention, GC, restore and audit', (kind) => {
  let s: TestServer;
  const clock = new TestClock();
  const data: Record<string, Buffer> = {};
  const path = (v: string) => `/v1/packages/gc/svc/versions/${v}`;
  const plan = async () => (await call(s.url, 'POST', '/v1/gc/plan', {})).body;
  const run = async () => (await call(s.url, 'POST', '/v1/gc/run', {})).body;

  beforeAll(async () => {
    s = await startTestServer(kind, { clock });
    const policy = { retention: { keepLast: 2, maxAgeDays: 1, keepPromotedPerStage: 1, graceHours: 1 } };
    expect((await call(s.url, 'PUT', '/v1/namespaces/gc/policy', policy)).status).toBe(200);
    for (const v of ['1', '2', '3', '4', '5', '6']) {
      data[v] = content(`gc-${v}`, 4096);
      await publish(s.url, { namespace: 'gc', package: 'svc', version: v, files: { 'a.bin': data[v]! } });
      await settled(s.url, path(v));
    }
    await call(s.url, 'POST', `${path('1')}/promote`, { stage: 'prod' });
    await call(s.url, 'POST', `${path('2')}/promote`, { stage: 'prod' });
  });
  afterAll(async () => s?.close());

  it('keeps everything recent under the documented defaults', async () => {
    for (let i = 0; i < 12; i++)
      await publish(s.url, {
        namespace: 'fresh',
        package: 'p',
        version: `${i}`,
        files: { 'f.bin': content(`f${i}`) },
      });
    await s.whenIdle();
    const { actions } = await plan();
    expect(actions.filter((a: { target: string }) => a.target.startsWith('fresh/'))).toEqual([]);
  });

  it('plans, without changing anything, to tombstone only unprotected versions past retention, with reasons', async () => {
    clock.advance(2 * DAY);
    const lease = { namespace: 'gc', package: 'svc', version: '3', holder: 'audit', ttlSeconds: DAY };
    expect((await call(s.url, 'POST', '/v1/leases', lease)).status).toBe(201);
    const before = await s.snapshot();
    const { actions, counts } = await plan();
    const tombstones = actions.filter((a: { action: string }) => a.action === 'tombstoneVersion');
    // 6 and 5 are the newest two, 2 is on prod, 1 was promoted but is beyond keepPromotedPerStage=1, 3 is leased.
    expect(tombstones.map((a: { target: string }) => a.target).sort()).toEqual(['gc/svc@1', 'gc/svc@4']);
    expect(tombstones[0].reason).toMatch(/retention: not among the newest 2, older than 1 days/);
    expect(counts.tombstoneVersion).toBe(2);
    expect(await s.snapshot()).toEqual(before);
  });

  it('tombstones them, serves them no more, and restores one within the grace period', async () => {
    const report = await run();
    expect(report).toMatchObject({ tombstoned: 2, deleted: { versions: 0, blobs: 0 } });
    expect((await call(s.url, 'GET', path('1'))).body.state).toBe('deleting');
    expect((await call(s.url, 'GET', `${path('1')}/files/a.bin`)).status).toBe(409);
    const restored = await call(s.url, 'POST', `${path('4')}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body.state).toBe('available');
    expect((await call(s.url, 'POST', `${path('5')}/restore`)).status).toBe(404);
  });

  it('deletes a tombstoned version after its grace, then its unreferenced blob after the blob grace', async () => {
    clock.advance(2 * 3600);
    const afterGrace = await run();
    expect(afterGrace.deleted.versions).toBe(1);
    expect((await call(s.url, 'GET', path('1'))).status).toBe(404);
    expect((await call(s.url, 'POST', `${path('1')}/restore`)).status).toBe(404);
    const blob = sha256(data['1']!);
    expect(await s.storedBlobs()).toContain(blob);
    clock.advance(25 * 3600);
    const later = await run();
    expect(later.deleted.blobs).toBeGreaterThanOrEqual(1);
    expect(await s.storedBlobs()).not.toContain(blob);
    // The current prod version and the newest two are never touched, however often GC runs.
    for (const v of ['2', '5', '6']) {
      const { body } = await call(s.url, 'GET', `${path(v)}/files/a.bin?redirect=false`);
      expect(sha256(Buffer.from(await (await fetch(body.url)).arrayBuffer()))).toBe(sha256(data[v]!));
    }
  });

  it('expires sessions and drops their staged bytes', async () => {
    const files = { 'x.bin': content('abandoned') };
    const created = await createUpload(s.url, { namespace: 'gc', package: 'svc', version: '99', files });
    await uploadAll(created, files);
    clock.advance(2 * 3600);
    const { actions } = await plan();
    expect(actions).toContainEqual(
      expect.objectContaining({ action: 'expireSession', target: created.body.uploadId }),
    );
    expect((await run()).deleted.sessions).toBe(1);
    expect((await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`)).status).toBe(404);
  });

  it('writes one audit event per mutation with actor, target, request id and the rule', async () => {
    const res = await call(s.url, 'GET', '/v1/audit?namespace=gc&limit=1000');
    const actions = res.body.items.map((e: { action: string }) => e.action);
    for (const a of [
      'policy.put',
      'upload.create',
      'upload.commit',
      'stage.promote',
      'lease.acquire',
      'gc.tombstoneVersion',
      'version.restore',
      'gc.deleteVersion',
      'gc.expireSession',
    ]) {
      expect(actions).toContain(a);
    }
    const tomb = res.body.items.find((e: { action: string }) => e.action === 'gc.tombstoneVersion');
    expect(tomb).toMatchObject({
      actor: 'admin',
      namespace: 'gc',
      details: { rule: expect.stringMatching(/^retention/) },
    });
    expect(tomb.requestId).toBeTruthy();
    const blobs = await call(s.url, 'GET', '/v1/audit?limit=1000');
    expect(blobs.body.items.some((e: { action: string }) => e.action === 'gc.deleteBlob')).toBe(true);
  });

  it.each([
    ['enforceOrder without stages', { enforceOrder: true }],
    ['an immutable stage outside stages', { stages: ['dev'], immutableStages: ['prod'] }],
    ['duplicate stages', { stages: ['dev', 'dev'] }],
    ['a bad stage name', { stages: ['Prod'] }],
    ['keepLast of 0', { retention: { keepLast: 0 } }],
    ['a negative grace', { retention: { graceHours: -1 } }],
    ['an unknown retention field', { retention: { keepForever: true } }],
    ['an unknown field', { color: 'red' }],
  ])('refuses a policy with %s and changes nothing', async (_t, body) => {
    const before = await s.snapshot();
    const res = await call(s.url, 'PUT', '/v1/namespaces/gc/policy', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
    expect(await s.snapshot()).toEqual(before);
  });

  it('refuses a tampered GC cursor and audit cursor with 400', async () => {
    expect((await call(s.url, 'POST', '/v1/gc/run', { cursor: 'abc.def' })).status).toBe(400);
    expect((await call(s.url, 'GET', '/v1/audit?cursor=abc.def')).status).toBe(400);
    expect((await call(s.url, 'GET', '/v1/audit?since=yesterday')).status).toBe(400);
  });
});
