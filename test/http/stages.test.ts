import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, publish, settled } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

describeForEachBackend('promotion and stages', (kind) => {
  let s: TestServer;
  const pkg = (p: string) => `/v1/packages/demo/${p}`;
  const promote = (p: string, version: string, stage: unknown) =>
    call(s.url, 'POST', `${pkg(p)}/versions/${version}/promote`, { stage });
  const release = async (p: string, version: string, data = content(version)) => {
    await publish(s.url, { package: p, version, files: { 'app.bin': data } });
    expect((await settled(s.url, `${pkg(p)}/versions/${version}`)).body.state).toBe('available');
    return data;
  };

  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s?.close());

  it('moves a stage pointer, keeps its history newest first and marks the version protected', async () => {
    await release('web', '1.0.0');
    await release('web', '1.1.0');
    expect((await promote('web', '1.0.0', 'prod')).body).toEqual({
      stage: 'prod',
      version: '1.0.0',
      previousVersion: null,
    });
    expect((await promote('web', '1.1.0', 'prod')).body).toEqual({
      stage: 'prod',
      version: '1.1.0',
      previousVersion: '1.0.0',
    });
    const stage = await call(s.url, 'GET', `${pkg('web')}/stages/prod`);
    expect(stage.body).toMatchObject({
      stage: 'prod',
      version: '1.1.0',
      history: [{ version: '1.1.0', by: 'admin' }, { version: '1.0.0' }],
    });
    const v = await call(s.url, 'GET', `${pkg('web')}/versions/1.1.0`);
    expect(v.body).toMatchObject({ stages: ['prod'], protected: true });
    const old = await call(s.url, 'GET', `${pkg('web')}/versions/1.0.0`);
    expect(old.body).toMatchObject({ stages: [], protected: true }); // a rollback target within retention
  });

  it('downloads by stage', async () => {
    const data = await release('cd', '2.0.0');
    await promote('cd', '2.0.0', 'staging');
    const res = await call(s.url, 'GET', `${pkg('cd')}/stages/staging/files/app.bin?redirect=false`);
    expect(res.body).toMatchObject({ sha256: sha256(data) });
    expect(sha256(Buffer.from(await (await fetch(res.body.url)).arrayBuffer()))).toBe(sha256(data));
    expect((await call(s.url, 'GET', `${pkg('cd')}/stages/prod/files/app.bin`)).status).toBe(404);
  });

  it('answers 404 for a missing version before any policy check, and 409 NotPromotable for a pending one', async () => {
    await call(s.url, 'PUT', '/v1/namespaces/demo/policy', { stages: ['dev', 'prod'], enforceOrder: true });
    try {
      const missing = await promote('web', '9.9.9', 'anything-goes');
      expect(missing.status).toBe(404);
      const paused = await startTestServer(kind);
      try {
        await paused.pauseScans();
        await publish(paused.url, { version: '1.0.0', files: { 'a.bin': content('p') } });
        const res = await call(paused.url, 'POST', '/v1/packages/demo/app/versions/1.0.0/promote', {
          stage: 'dev',
        });
        expect(res.status).toBe(409);
        expect(res.body.error.code).toBe('NotPromotable');
      } finally {
        await paused.close();
      }
    } finally {
      await call(s.url, 'PUT', '/v1/namespaces/demo/policy', {});
    }
  });

  it('enforces the namespace stage order and the allowed stages', async () => {
    await call(s.url, 'PUT', '/v1/namespaces/ordered/policy', {
      stages: ['dev', 'staging', 'prod'],
      enforceOrder: true,
    });
    await publish(s.url, {
      namespace: 'ordered',
      package: 'svc',
      version: '1',
      files: { 'a.bin': content('o') },
    });
    await settled(s.url, '/v1/packages/ordered/svc/versions/1');
    const to = (stage: string) =>
      call(s.url, 'POST', '/v1/packages/ordered/svc/versions/1/promote', { stage });
    const before = await s.snapshot();
    const skip = await to('prod');
    expect(skip.status).toBe(409);
    expect(skip.body.error.code).toBe('StageOrderViolation');
    const unknown = await to('qa');
    expect(unknown.status).toBe(400);
    expect(await s.snapshot()).toEqual(before);
    expect((await to('dev')).status).toBe(200);
    expect((await to('staging')).status).toBe(200);
    expect((await to('prod')).status).toBe(200);
  });

  it('never moves an immutable stage once set', async () => {
    await call(s.url, 'PUT', '/v1/namespaces/tags/policy', {
      immutableStages: ['release'],
      stages: ['release'],
    });
    for (const v of ['1', '2']) {
      await publish(s.url, { namespace: 'tags', package: 'lib', version: v, files: { 'a.bin': content(v) } });
      await settled(s.url, `/v1/packages/tags/lib/versions/${v}`);
    }
    const first = await call(s.url, 'POST', '/v1/packages/tags/lib/versions/1/promote', { stage: 'release' });
    expect(first.status).toBe(200);
    const again = await call(s.url, 'POST', '/v1/packages/tags/lib/versions/1/promote', { stage: 'release' });
    expect(again.body).toEqual({ stage: 'release', version: '1', previousVersion: '1' });
    const before = await s.snapshot();
    const move = await call(s.url, 'POST', '/v1/packages/tags/lib/versions/2/promote', { stage: 'release' });
    expect(move.status).toBe(409);
    expect(move.body.error.code).toBe('StageImmutable');
    expect(await s.snapshot()).toEqual(before);
  });

  it.each([
    ['an upper-case stage', { stage: 'Prod' }],
    ['a stage with an underscore', { stage: 'pro_d' }],
    ['a missing stage', {}],
    ['an extra field', { stage: 'prod', force: true }],
  ])('answers %s with 400 and changes nothing', async (_t, body) => {
    await release('bad', `b-${Math.random().toString(36).slice(2, 8)}`);
    const before = await s.snapshot();
    const res = await call(s.url, 'POST', `${pkg('bad')}/versions/1.0.0/promote`, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
    expect(await s.snapshot()).toEqual(before);
  });

  it('answers 404 for an unset stage', async () => {
    expect((await call(s.url, 'GET', `${pkg('web')}/stages/canary`)).status).toBe(404);
  });
});
