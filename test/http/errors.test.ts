import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, createUpload, publish, uploadAll } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const hex = sha256('x');
const file = (o: Record<string, unknown> = {}) => ({ name: 'a.bin', size: 1, sha256: hex, ...o });
const upload = (o: Record<string, unknown> = {}) => ({
  namespace: 'demo',
  package: 'app',
  version: '1.0.0',
  files: [file()],
  ...o,
});
const manyFiles = (n: number) => Array.from({ length: n }, (_, i) => file({ name: `f${i}.bin` }));
const metadata = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

/** [title, method, path, body, status, code] — each must answer its status and code and change nothing. */
const BAD_REQUESTS: [string, string, string, unknown, number, string][] = [
  ['malformed JSON', 'POST', '/v1/uploads', '{"namespace":', 400, 'InvalidRequest'],
  ['an empty body', 'POST', '/v1/uploads', '', 400, 'InvalidRequest'],
  ['a JSON array body', 'POST', '/v1/uploads', '[]', 400, 'InvalidRequest'],
  ['an unknown top-level field', 'POST', '/v1/uploads', upload({ extra: 1 }), 400, 'InvalidRequest'],
  [
    'an unknown field inside files[]',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ color: 'red' })] }),
    400,
    'InvalidRequest',
  ],
  [
    'an upper-case namespace',
    'POST',
    '/v1/uploads',
    upload({ namespace: 'Payments' }),
    400,
    'InvalidRequest',
  ],
  [
    'a 65-character namespace',
    'POST',
    '/v1/uploads',
    upload({ namespace: 'a'.repeat(65) }),
    400,
    'InvalidRequest',
  ],
  ['a package with a slash', 'POST', '/v1/uploads', upload({ package: 'a/b' }), 400, 'InvalidRequest'],
  ['a version starting with a dot', 'POST', '/v1/uploads', upload({ version: '.1' }), 400, 'InvalidRequest'],
  [
    'a file name with ..',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ name: 'a..b' })] }),
    400,
    'InvalidRequest',
  ],
  [
    'a file name with a dot segment',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ name: 'dir/../a' })] }),
    400,
    'InvalidRequest',
  ],
  [
    'an upper-case digest',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ sha256: hex.toUpperCase() })] }),
    400,
    'InvalidRequest',
  ],
  [
    'a short digest',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ sha256: hex.slice(1) })] }),
    400,
    'InvalidRequest',
  ],
  [
    'a md5: digest',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ sha256: `md5:${hex}` })] }),
    400,
    'InvalidRequest',
  ],
  ['a negative size', 'POST', '/v1/uploads', upload({ files: [file({ size: -1 })] }), 400, 'InvalidRequest'],
  [
    'a fractional size',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ size: 1.5 })] }),
    400,
    'InvalidRequest',
  ],
  ['a string size', 'POST', '/v1/uploads', upload({ files: [file({ size: '1' })] }), 400, 'InvalidRequest'],
  [
    'a size above 5 TiB',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ size: 5 * 1024 ** 4 + 1 })] }),
    413,
    'TooLarge',
  ],
  ['zero files', 'POST', '/v1/uploads', upload({ files: [] }), 400, 'InvalidRequest'],
  ['1001 files', 'POST', '/v1/uploads', upload({ files: manyFiles(1001) }), 400, 'InvalidRequest'],
  ['duplicate file names', 'POST', '/v1/uploads', upload({ files: [file(), file()] }), 400, 'InvalidRequest'],
  ['33 metadata keys', 'POST', '/v1/uploads', upload({ metadata: metadata(33) }), 400, 'InvalidRequest'],
  [
    'a 1025-character metadata value',
    'POST',
    '/v1/uploads',
    upload({ metadata: { k: 'v'.repeat(1025) } }),
    400,
    'InvalidRequest',
  ],
  [
    'a metadata key starting with a digit',
    'POST',
    '/v1/uploads',
    upload({ metadata: { '1k': 'v' } }),
    400,
    'InvalidRequest',
  ],
  [
    'a non-string metadata value',
    'POST',
    '/v1/uploads',
    upload({ metadata: { k: 1 } }),
    400,
    'InvalidRequest',
  ],
  [
    'a bad media type',
    'POST',
    '/v1/uploads',
    upload({ files: [file({ mediaType: 'not a type' })] }),
    400,
    'InvalidRequest',
  ],
  [
    'a JSON body over 1 MiB',
    'POST',
    '/v1/uploads',
    upload({ metadata: { k: 'v'.repeat(1024 * 1024) } }),
    413,
    'TooLarge',
  ],
  [
    '..%2F in a route parameter',
    'GET',
    '/v1/packages/demo/..%2F..%2Fetc/versions',
    undefined,
    400,
    'InvalidRequest',
  ],
  [
    '%00 in a route parameter',
    'GET',
    '/v1/packages/demo/app/versions/1.0%00',
    undefined,
    400,
    'InvalidRequest',
  ],
  [
    'a malformed percent-encoding',
    'GET',
    '/v1/packages/demo/app%E0%A4%A/versions',
    undefined,
    400,
    'InvalidRequest',
  ],
  [
    '%2F in a file name',
    'GET',
    '/v1/packages/demo/app/versions/1.0.0/files/..%2Findex.sqlite',
    undefined,
    400,
    'InvalidRequest',
  ],
  ['a limit of 101', 'GET', '/v1/packages/demo/app/versions?limit=101', undefined, 400, 'InvalidRequest'],
  ['a limit of 0', 'GET', '/v1/packages/demo/app/versions?limit=0', undefined, 400, 'InvalidRequest'],
  [
    'a tampered cursor',
    'GET',
    '/v1/packages/demo/app/versions?cursor=eyJzIjoieCIsInAiOiIxIn0.abc',
    undefined,
    400,
    'InvalidRequest',
  ],
  [
    'an unknown query parameter',
    'GET',
    '/v1/packages/demo/app/versions?color=red',
    undefined,
    400,
    'InvalidRequest',
  ],
  ['a malformed upload id', 'POST', '/v1/uploads/not-an-id/commit', undefined, 400, 'InvalidRequest'],
  ['an unknown session', 'POST', '/v1/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV/commit', undefined, 404, 'NotFound'],
  [
    'aborting an unknown session',
    'DELETE',
    '/v1/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV',
    undefined,
    404,
    'NotFound',
  ],
  ['an unknown version', 'GET', '/v1/packages/demo/app/versions/9.9.9', undefined, 404, 'NotFound'],
  [
    'an unknown file',
    'GET',
    '/v1/packages/demo/app/versions/0.1.0/files/nope.bin',
    undefined,
    404,
    'NotFound',
  ],
  ['an unknown route', 'GET', '/v1/nothing-here', undefined, 404, 'NotFound'],
  ['a wrong method on a known path', 'DELETE', '/v1/health', undefined, 405, 'MethodNotAllowed'],
  ['PUT on the uploads route', 'PUT', '/v1/uploads', upload(), 405, 'MethodNotAllowed'],
  [
    'a commit body with unknown fields',
    'POST',
    '/v1/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV/commit',
    { parts: [] },
    400,
    'InvalidRequest',
  ],
];

describeForEachBackend('bad input answers a 4xx with a code and changes nothing', (kind) => {
  let s: TestServer;
  const clock = new TestClock();
  beforeAll(async () => {
    s = await startTestServer(kind, { clock });
    await publish(s.url, { version: '0.1.0', files: { 'a.bin': content('seed') } });
    await s.whenIdle();
  });
  afterAll(async () => s?.close());

  it.each(BAD_REQUESTS)(
    'answers %s with the documented status and code',
    async (_title, method, path, body, status, code) => {
      const before = await s.snapshot();
      const res = await call(s.url, method, path, body);
      expect(res.status).toBe(status);
      expect(res.body.error).toMatchObject({ code, message: expect.any(String) });
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(await s.snapshot()).toEqual(before);
    },
  );

  it('answers a wrong method with 405 MethodNotAllowed and an allow header naming the right ones', async () => {
    const wrong = await call(s.url, 'PUT', '/v1/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('DELETE');
    expect(wrong.body.error).toMatchObject({ code: 'MethodNotAllowed', details: { allow: ['DELETE'] } });
    const health = await call(s.url, 'POST', '/v1/health');
    expect(health.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD on a GET route as GET, without a body', async () => {
    const res = await fetch(`${s.url}/v1/health`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('accepts a digest with the sha256: prefix and answers the bare hex', async () => {
    const data = content('prefixed');
    const res = await call(
      s.url,
      'POST',
      '/v1/uploads',
      upload({ version: '7.0.0', files: [file({ size: data.length, sha256: `sha256:${sha256(data)}` })] }),
    );
    expect(res.status).toBe(201);
    expect(res.body.files[0].sha256).toBe(sha256(data));
  });

  it('refuses to open a session for a version that exists with 409 VersionExists', async () => {
    const before = await s.snapshot();
    const res = await createUpload(s.url, { version: '0.1.0', files: { 'b.bin': content('again') } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('VersionExists');
    expect(await s.snapshot()).toEqual(before);
  });

  it('refuses a commit without bytes with 422 UploadIncomplete and keeps the session open', async () => {
    const created = await createUpload(s.url, { version: '8.0.0', files: { 'a.bin': content('missing') } });
    const before = await s.snapshot();
    const res = await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('UploadIncomplete');
    expect(await s.snapshot()).toEqual(before);
    const files = { 'a.bin': content('late') };
    const retry = await createUpload(s.url, { version: '8.0.1', files });
    await uploadAll(retry, files);
    expect((await call(s.url, 'POST', `/v1/uploads/${retry.body.uploadId}/commit`)).status).toBe(200);
  });

  it('refuses a commit after the session expired with 410 UploadExpired, even with every byte stored', async () => {
    const files = { 'a.bin': content('too late') };
    const created = await createUpload(s.url, { version: '10.0.0', files });
    await uploadAll(created, files);
    clock.advance(3601);
    try {
      const before = await s.snapshot();
      const res = await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
      expect(res.status).toBe(410);
      expect(res.body.error.code).toBe('UploadExpired');
      expect(await s.snapshot()).toEqual(before);
    } finally {
      clock.advance(-3601);
    }
  });

  it('serves no download of a version that is not available (409 Conflict)', async () => {
    const paused = await startTestServer(kind);
    try {
      await paused.pauseScans(); // uploads stay pending: nothing scans them
      const files = { 'p.bin': content('pending') };
      expect((await publish(paused.url, { version: '9.0.0', files })).body.state).toBe('pending');
      const before = await paused.snapshot();
      const res = await call(paused.url, 'GET', '/v1/packages/demo/app/versions/9.0.0/files/p.bin');
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('Conflict');
      expect(await paused.snapshot()).toEqual(before);
    } finally {
      await paused.close();
    }
  });
});
