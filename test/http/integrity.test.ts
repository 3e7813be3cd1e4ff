import { readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUpload, publish, settled, uploadAll } from '../support/client.ts';
import { type EmbeddedServer, SCOPED_TOKENS, startEmbeddedServer } from '../support/embedded.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const { alphaWriter, betaWriter } = SCOPED_TOKENS;

describeForEachBackend('content is only shared with those who may read it', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s?.close());

  /** Publishes one file as `token` and waits until the version has left `pending`. */
  const published = async (namespace: string, version: string, data: Buffer, token: string) => {
    const committed = await publish(s.url, { namespace, version, files: { 'a.bin': data }, token });
    expect(committed.status).toBe(200);
    return settled(s.url, `/v1/packages/${namespace}/app/versions/${version}`);
  };

  it('answers upload, not exists, to a writer of another namespace (defect: deduplication leaked content across namespaces)', async () => {
    const secret = content('alpha-only', 4096);
    await published('alpha', '1.0.0', secret, alphaWriter);

    const created = await createUpload(s.url, {
      namespace: 'beta',
      version: '1.0.0',
      files: { 'b.bin': secret },
      token: betaWriter,
    });
    expect(created.status).toBe(201);
    expect(created.body.files[0].action).toBe('upload');
    // Committing without sending the bytes takes nothing from alpha.
    const commit = await call(
      s.url,
      'POST',
      `/v1/uploads/${created.body.uploadId}/commit`,
      undefined,
      betaWriter,
    );
    expect(commit.status).toBe(422);
    expect(commit.body.error.code).toBe('UploadIncomplete');
    expect(
      (await call(s.url, 'GET', '/v1/packages/beta/app/versions/1.0.0', undefined, betaWriter)).status,
    ).toBe(404);
  });

  it('stores content once when a writer of another namespace uploads bytes it really has', async () => {
    const shared = content('both-have-it', 3000);
    await published('alpha', '2.0.0', shared, alphaWriter);
    const beta = await published('beta', '2.0.0', shared, betaWriter);
    expect(beta.body.state).toBe('available');
    expect((await s.storedBlobs()).filter((b) => b === sha256(shared))).toHaveLength(1);
  });

  it('answers exists for content a version of the caller’s own namespace holds', async () => {
    const data = content('alpha-again', 2000);
    await published('alpha', '3.0.0', data, alphaWriter);
    const created = await createUpload(s.url, {
      namespace: 'alpha',
      version: '3.0.1',
      files: { 'a.bin': data },
      token: alphaWriter,
    });
    expect(created.body.files[0].action).toBe('exists');
  });

  it('refuses an exists file declared with another size than the stored content (defect: declared size of an exists file was not checked)', async () => {
    const data = content('sized', 23);
    await publish(s.url, { version: '1.0.0', files: { 'a.bin': data } });
    await settled(s.url, '/v1/packages/demo/app/versions/1.0.0');
    const before = await s.snapshot();
    const res = await call(s.url, 'POST', '/v1/uploads', {
      namespace: 'demo',
      package: 'app',
      version: '1.0.1',
      files: [{ name: 'a.bin', size: 999_999, sha256: sha256(data) }],
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'SizeMismatch',
      details: { file: 'a.bin', declared: 999_999, stored: 23 },
    });
    expect(await s.snapshot()).toEqual(before);
  });
});

/** A PUT whose headers go out now and whose body is sent later, by `finish`. */
function heldPut(url: string, headers: Record<string, string>) {
  const req = request(url, { method: 'PUT', headers });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return {
    finish: (data: Buffer) => {
      req.end(data);
      return answered;
    },
  };
}

describeForEachBackend('bytes never change after their scan', (kind) => {
  const MiB = 1024 * 1024;
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { multipartThreshold: 5 * MiB });
  });
  afterAll(async () => s?.close());

  it('keeps the stored blob when a part PUT held open across commit and scan sends other bytes (defect: bytes changed after their scan)', async () => {
    const data = content('scanned', 17 * MiB + 5);
    const created = await createUpload(s.url, { version: '1.0.0', files: { 'big.bin': data } });
    const { parts, partSize } = created.body.files[0].multipart as {
      parts: { partNumber: number; url: string; headers: Record<string, string> }[];
      partSize: number;
    };
    expect(parts.length).toBeGreaterThan(1);
    const etags = [];
    for (const p of parts) {
      const body = data.subarray((p.partNumber - 1) * partSize, p.partNumber * partSize);
      const res = await fetch(p.url, { method: 'PUT', headers: p.headers, body });
      expect(res.status).toBe(200);
      etags.push({ partNumber: p.partNumber, etag: res.headers.get('etag')! });
    }
    const held = heldPut(parts[0]!.url, parts[0]!.headers);
    await new Promise((r) => setTimeout(r, 50)); // the request has reached storage

    const commitPath = `/v1/uploads/${created.body.uploadId}/commit`;
    expect(
      (await call(s.url, 'POST', commitPath, { files: [{ name: 'big.bin', parts: etags }] })).status,
    ).toBe(200);
    await s.whenIdle();
    expect((await settled(s.url, '/v1/packages/demo/app/versions/1.0.0')).body.state).toBe('available');

    const late = await held.finish(Buffer.alloc(partSize, 0x41));
    if (kind === 'embedded') expect(JSON.parse(late.body).error.code).toBe('NoSuchUpload');
    await s.whenIdle();
    const link = await call(
      s.url,
      'GET',
      '/v1/packages/demo/app/versions/1.0.0/files/big.bin?redirect=false',
    );
    const downloaded = Buffer.from(await (await fetch(link.body.url)).arrayBuffer());
    expect(sha256(downloaded)).toBe(sha256(data));
    expect((await call(s.url, 'GET', '/v1/packages/demo/app/versions/1.0.0')).body.state).toBe('available');
  });
});

describe('the embedded storage endpoint writes nothing in place', () => {
  const MiB = 1024 * 1024;
  let s: EmbeddedServer;
  beforeAll(async () => {
    s = await startEmbeddedServer({ multipartThreshold: MiB, partSize: MiB });
  });
  afterAll(async () => s?.close());

  async function createMultipart(version: string, data: Buffer) {
    const created = await createUpload(s.url, { version, files: { 'big.bin': data } });
    expect(created.status).toBe(201);
    const file = created.body.files[0];
    expect(file.multipart.parts.length).toBeGreaterThan(1);
    return {
      uploadId: created.body.uploadId as string,
      parts: file.multipart.parts as { partNumber: number; url: string; headers: Record<string, string> }[],
      partSize: file.multipart.partSize as number,
    };
  }

  async function putParts(
    parts: { partNumber: number; url: string; headers: Record<string, string> }[],
    data: Buffer,
    partSize: number,
  ) {
    const etags = [];
    for (const p of parts) {
      const body = data.subarray((p.partNumber - 1) * partSize, p.partNumber * partSize);
      const res = await fetch(p.url, { method: 'PUT', headers: p.headers, body });
      expect(res.status).toBe(200);
      etags.push({ partNumber: p.partNumber, etag: res.headers.get('etag')! });
    }
    return etags;
  }

  it('ignores a rejected part PUT: the part uploaded before stays as it was (defect: a rejected part PUT wrote in place)', async () => {
    const data = content('rejected-part', 2 * MiB + 7);
    const { uploadId, parts, partSize } = await createMultipart('2.0.0', data);
    const etags = await putParts(parts, data, partSize);
    // Chunked, so no content-length to refuse upfront: the short body is refused after it arrived.
    const short = request(parts[0]!.url, { method: 'PUT', headers: { 'transfer-encoding': 'chunked' } });
    const refused = new Promise<number>((resolve, reject) => {
      short.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      short.on('error', reject);
    });
    short.write(Buffer.alloc(1024, 0x42));
    short.end(Buffer.alloc(partSize - 1025, 0x42));
    expect(await refused).toBe(400);

    const commit = await call(s.url, 'POST', `/v1/uploads/${uploadId}/commit`, {
      files: [{ name: 'big.bin', parts: etags }],
    });
    expect(commit.status).toBe(200);
    const v = await settled(s.url, '/v1/packages/demo/app/versions/2.0.0');
    expect(v.body.state).toBe('available');
  });

  it('leaves no staging directory behind once a session is committed and scanned, or aborted', async () => {
    const files = { 'x.bin': content('dirs') };
    const committed = await publish(s.url, { version: '3.0.0', files });
    expect(committed.status).toBe(200);
    const abandoned = { 'y.bin': content('dirs-2') };
    const aborted = await createUpload(s.url, { version: '3.0.1', files: abandoned });
    await uploadAll(aborted, abandoned);
    expect((await call(s.url, 'DELETE', `/v1/uploads/${aborted.body.uploadId}`)).status).toBe(204);
    await s.backend.scanQueue.whenIdle();
    expect(await readdir(join(s.dataDir, 'staging'))).toEqual([]);
  });

  it('keeps the data dir, the index and the blobs to the store’s own user (defect: they were world-readable)', async () => {
    const data = content('private', 100);
    await publish(s.url, { version: '4.0.0', files: { 'p.bin': data } });
    await s.backend.scanQueue.whenIdle();
    const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
    expect(await modeOf(s.dataDir)).toBe(0o700);
    expect(await modeOf(join(s.dataDir, 'index.sqlite'))).toBe(0o600);
    expect(await modeOf(join(s.dataDir, 'blobs'))).toBe(0o700);
    expect(await modeOf(s.backend.store.blobPath(sha256(data)))).toBe(0o600);
  });
});
