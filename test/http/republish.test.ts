import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, settled } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

describeForEachBackend('re-publishing a version (a CI re-run)', (kind) => {
  let s: TestServer;
  const data = content('rerun', 3000);
  const file = { name: 'app.bin', size: data.length, sha256: sha256(data), mediaType: 'application/gzip' };
  const body = (overrides: { files?: unknown[]; metadata?: Record<string, string> } = {}) => ({
    namespace: 'demo',
    package: 'rerun',
    version: '1.0.0',
    files: overrides.files ?? [file],
    metadata: overrides.metadata ?? { commit: '9f1c' },
  });

  beforeAll(async () => {
    s = await startTestServer(kind);
    const created = await call(s.url, 'POST', '/v1/uploads', body());
    const put = created.body.files[0].upload;
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: data })).status).toBe(200);
    expect((await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`)).status).toBe(200);
    await settled(s.url, '/v1/packages/demo/rerun/versions/1.0.0');
  });
  afterAll(async () => s?.close());

  it('answers 200 existing with every file exists, and its commit answers the version unchanged', async () => {
    const before = (await call(s.url, 'GET', '/v1/packages/demo/rerun/versions/1.0.0')).body;
    const blobs = await s.storedBlobs();

    const again = await call(s.url, 'POST', '/v1/uploads', body());
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ existing: true, files: [{ name: 'app.bin', action: 'exists' }] });
    const committed = await call(s.url, 'POST', `/v1/uploads/${again.body.uploadId}/commit`);
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({
      version: '1.0.0',
      createdAt: before.createdAt,
      state: 'available',
    });

    expect((await call(s.url, 'GET', '/v1/packages/demo/rerun/versions')).body.items).toHaveLength(1);
    expect(await s.storedBlobs()).toEqual(blobs);
    const audit = await call(s.url, 'GET', '/v1/audit?namespace=demo&limit=1000');
    const noops = audit.body.items.filter((e: { action: string }) => e.action === 'publish.noop');
    expect(noops).toHaveLength(1);
  });

  it.each([
    [
      'one differing byte',
      { files: [{ ...file, sha256: sha256(Buffer.concat([data.subarray(1), Buffer.from('x')])) }] },
      'files.sha256',
    ],
    ['another size', { files: [{ ...file, size: data.length + 1 }] }, 'files.size'],
    ['another media type', { files: [{ ...file, mediaType: 'application/zip' }] }, 'files.mediaType'],
    ['another metadata value', { metadata: { commit: 'a0b1' } }, 'metadata'],
    ['another file', { files: [file, { ...file, name: 'more.bin' }] }, 'files'],
  ])(
    'answers 409 VersionExists naming the difference for %s, and changes nothing',
    async (_, overrides, field) => {
      const before = await s.snapshot();
      const res = await call(s.url, 'POST', '/v1/uploads', body(overrides));
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('VersionExists');
      expect(res.body.error.details.differences.map((d: { field: string }) => d.field)).toContain(field);
      expect(await s.snapshot()).toEqual(before);
    },
  );
});
