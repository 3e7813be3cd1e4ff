import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UploadIncompleteError } from '../../functions/core/errors.ts';
import { newId } from '../../functions/core/ids.ts';
import type { BlobStore, SignedRequest } from '../../functions/ports.ts';
import { content, sha256 } from '../support/fixtures.ts';

export interface BlobStoreUnderTest {
  /** Its signed URLs must be reachable with fetch for the duration of the test. */
  readonly store: BlobStore;
  close(): Promise<void>;
}

async function send(req: SignedRequest, body: Buffer): Promise<Response> {
  return fetch(req.url, { method: req.method, headers: req.headers, body });
}

async function collect(stream: AsyncIterable<Uint8Array> | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream!) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

const soon = () => new Date(Date.now() + 600_000);

/** The BlobStore port's contract, run unchanged against every backend. */
export function describeBlobStoreContract(name: string, factory: () => Promise<BlobStoreUnderTest>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let t: BlobStoreUnderTest;
    let store: BlobStore;
    beforeEach(async () => {
      t = await factory();
      store = t.store;
    });
    afterEach(async () => t.close());

    const stage = async (data: Buffer) => {
      const key = `staging/${newId()}/0`;
      const put = await send(await store.signUpload(key, data.length, sha256(data), soon()), data);
      expect(put.status).toBe(200);
      return key;
    };

    it('accepts a signed PUT sent with exactly the listed headers and reports its size', async () => {
      const data = content('put', 4096);
      const key = await stage(data);
      expect((await store.statStaged(key))!.size).toBe(data.length);
      expect(await collect(await store.readStaged(key))).toEqual(data);
    });

    it('binds the length and the sha256 into the signed headers', async () => {
      const data = content('bind');
      const req = await store.signUpload(`staging/${newId()}/0`, data.length, sha256(data), soon());
      expect(req.method).toBe('PUT');
      expect(req.headers['content-length']).toBe(String(data.length));
      expect(req.headers['x-amz-checksum-sha256']).toBe(Buffer.from(sha256(data), 'hex').toString('base64'));
    });

    it('answers null for staged objects that do not exist', async () => {
      const key = `staging/${newId()}/0`;
      expect(await store.statStaged(key)).toBeNull();
      expect(await store.readStaged(key)).toBeNull();
    });

    it('copies staged bytes into content-addressed storage and serves them by signed GET', async () => {
      const data = content('move', 10_000);
      const key = await stage(data);
      expect(await store.copyToBlob(key, sha256(data))).toBe(true);
      expect(await store.hasBlob(sha256(data))).toBe(true);
      expect(await store.statStaged(key)).toEqual(expect.objectContaining({ size: data.length }));
      await store.deleteStaged([key]);
      expect(await store.statStaged(key)).toBeNull();
      const url = await store.signDownload(sha256(data), 'move.bin', 'application/octet-stream', soon());
      const got = await fetch(url);
      expect(got.status).toBe(200);
      expect(Buffer.from(await got.arrayBuffer())).toEqual(data);
    });

    it('accepts a pack PUT of exactly its signed length, with no digest, and stages it whole', async () => {
      const data = content('pack', 5000);
      const key = `staging/${newId()}/pack`;
      const req = await store.signPackUpload(key, data.length, soon());
      expect(req.method).toBe('PUT');
      expect(req.headers).toEqual({ 'content-length': String(data.length) });

      expect((await send(req, data)).status).toBe(200);

      expect((await store.statStaged(key))!.size).toBe(data.length);
      expect(await collect(await store.readStaged(key))).toEqual(data);
    });

    it('stores given bytes under their sha256, once, and serves them by signed GET', async () => {
      const data = content('put-blob', 3000);
      expect(await store.hasBlob(sha256(data))).toBe(false);

      await store.putBlob(sha256(data), data);
      await store.putBlob(sha256(data), data);

      expect(await store.hasBlob(sha256(data))).toBe(true);
      const url = await store.signDownload(sha256(data), 'put.bin', 'application/octet-stream', soon());
      expect(Buffer.from(await (await fetch(url)).arrayBuffer())).toEqual(data);
    });

    it('leaves a stored blob as it is when the same content is copied again', async () => {
      const data = content('twice');
      expect(await store.copyToBlob(await stage(data), sha256(data))).toBe(true);
      const again = await stage(data);
      expect(await store.copyToBlob(again, sha256(data))).toBe(true);
      expect(await store.hasBlob(sha256(data))).toBe(true);
    });

    it('answers false when neither the staged object nor the blob is stored', async () => {
      const data = content('gone');
      const key = await stage(data);
      await store.deleteStaged([key]);
      expect(await store.copyToBlob(key, sha256(data))).toBe(false);
      expect(await store.hasBlob(sha256(data))).toBe(false);
    });

    it('deletes staged objects and blobs, absent keys included', async () => {
      const data = content('delete');
      const key = await stage(data);
      await store.deleteStaged([key, `staging/${newId()}/3`]);
      expect(await store.statStaged(key)).toBeNull();
      const blob = content('blob');
      await store.copyToBlob(await stage(blob), sha256(blob));
      await store.deleteBlobs([sha256(blob), sha256('absent')]);
      expect(await store.hasBlob(sha256(blob))).toBe(false);
    });

    it('assembles a multipart upload from its parts and ETags, and completing it again is a no-op', async () => {
      const data = content('multipart', 11 * 1024 * 1024 + 17);
      const key = `staging/${newId()}/0`;
      const mp = await store.startMultipart(key, data.length, sha256(data), soon());
      expect(mp.parts.length).toBe(Math.ceil(data.length / mp.partSize));
      const parts = await Promise.all(
        mp.parts.map(async (p) => {
          const slice = data.subarray((p.partNumber - 1) * mp.partSize, p.partNumber * mp.partSize);
          const res = await send(p, slice);
          expect(res.status).toBe(200);
          return { partNumber: p.partNumber, etag: res.headers.get('etag')! };
        }),
      );
      await store.completeMultipart(key, mp.multipartId, parts);
      expect((await store.statStaged(key))!.size).toBe(data.length);
      expect(sha256(await collect(await store.readStaged(key)))).toBe(sha256(data));

      await store.completeMultipart(key, mp.multipartId, parts); // a retried commit completes it again
      expect(sha256(await collect(await store.readStaged(key)))).toBe(sha256(data));
    });

    it('refuses to complete a multipart upload with a wrong ETag', async () => {
      const data = content('badetag', 1024);
      const key = `staging/${newId()}/0`;
      const mp = await store.startMultipart(key, data.length, sha256(data), soon());
      await send(mp.parts[0]!, data);
      const wrong = [{ partNumber: 1, etag: '"0000000000000000000000000000000"' }];
      await expect(store.completeMultipart(key, mp.multipartId, wrong)).rejects.toBeInstanceOf(
        UploadIncompleteError,
      );
      expect(await store.statStaged(key)).toBeNull();
    });
  });
}
