import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUpload, snapshot, uploadAll } from '../support/client.ts';
import { type EmbeddedServer, startEmbeddedServer } from '../support/embedded.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';

/** A raw PUT, so tests can send bodies and headers that fetch would refuse to. */
function rawPut(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Embedded only: every test here needs storage that refuses bytes or URLs (length, checksum, signature,
// expiry). On AWS that refusal is S3's own, and moto checks none of a presigned URL's signature, expiry
// or x-amz-checksum-sha256, so the AWS variant could not fail. The backend-neutral part (a commit of an
// expired session answers 410) runs on both backends in errors.test.ts.
describe('signed storage URLs of the embedded backend', () => {
  let s: EmbeddedServer;
  const clock = new TestClock();
  beforeAll(async () => {
    s = await startEmbeddedServer({ clock });
  });
  afterAll(async () => s.close());

  const open = async (version: string, data: Buffer) => {
    const created = await createUpload(s.url, { version, files: { 'a.bin': data } });
    return {
      created,
      target: created.body.files[0].upload as { url: string; headers: Record<string, string> },
    };
  };

  it('refuses a body shorter than declared with 400 SizeMismatch and leaves nothing behind', async () => {
    const data = content('short', 1000);
    const { target } = await open('1.0.0', data);
    const before = await snapshot(s);
    const res = await rawPut(
      target.url,
      { ...target.headers, 'content-length': '500' },
      data.subarray(0, 500),
    );
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'SizeMismatch' } } });
    expect(await snapshot(s)).toEqual(before);
  });

  it('refuses a chunked body longer than declared with 400 SizeMismatch', async () => {
    const data = content('long', 1000);
    const { target } = await open('1.0.1', data);
    const before = await snapshot(s);
    const headers = {
      'x-amz-checksum-sha256': target.headers['x-amz-checksum-sha256']!,
      'transfer-encoding': 'chunked',
    };
    const res = await rawPut(target.url, headers, Buffer.concat([data, data]));
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'SizeMismatch' } } });
    expect(await snapshot(s)).toEqual(before);
  });

  it('refuses wrong bytes of the right length with 400 BadDigest and leaves nothing behind', async () => {
    const data = content('right', 1000);
    const { target } = await open('1.0.2', data);
    const before = await snapshot(s);
    const res = await rawPut(target.url, target.headers, content('wrong', 1000));
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'BadDigest' } } });
    expect(await snapshot(s)).toEqual(before);
  });

  it('refuses a tampered URL with 403 Forbidden', async () => {
    const data = content('tamper');
    const { target } = await open('1.0.3', data);
    const before = await snapshot(s);
    const url = new URL(target.url);
    const token = url.pathname.split('/').at(-1)!;
    const [body, mac] = token.split('.');
    const grant = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...grant, size: grant.size + 1 })).toString('base64url');
    url.pathname = url.pathname.replace(token, `${forged}.${mac}`);
    const res = await rawPut(url.toString(), target.headers, data);
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'Forbidden' } } });
    expect(await snapshot(s)).toEqual(before);
  });

  it('refuses an expired upload URL with 403, and the expired session with 410 UploadExpired', async () => {
    const data = content('expired');
    const { created, target } = await open('1.0.4', data);
    clock.advance(3601);
    try {
      const before = await snapshot(s);
      expect((await rawPut(target.url, target.headers, data)).status).toBe(403);
      const commit = await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
      expect(commit.status).toBe(410);
      expect(commit.body.error.code).toBe('UploadExpired');
      expect(await snapshot(s)).toEqual(before);
    } finally {
      clock.advance(-3601);
    }
  });

  it('signs download URLs that expire', async () => {
    const files = { 'a.bin': content('download') };
    const created = await createUpload(s.url, { version: '1.0.5', files });
    await uploadAll(created, files);
    await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    await s.backend.scanQueue.whenIdle();
    const { body } = await call(
      s.url,
      'GET',
      '/v1/packages/demo/app/versions/1.0.5/files/a.bin?redirect=false',
    );
    const ok = await fetch(body.url);
    expect(sha256(Buffer.from(await ok.arrayBuffer()))).toBe(sha256(files['a.bin']));
    clock.advance(301);
    try {
      const late = await fetch(body.url);
      expect(late.status).toBe(403);
      expect(((await late.json()) as any).error.code).toBe('Forbidden');
    } finally {
      clock.advance(-301);
    }
  });
});
