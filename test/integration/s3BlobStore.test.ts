import type { S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { choosePartSize } from '../../functions/adapters/aws/s3Parts.ts';
import { newId } from '../../functions/core/ids.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { freshResources, motoClients, storeOn } from './awsFixtures.ts';
import { useMoto } from './moto.ts';
import { hashDownload, MIB, putStream, SyntheticFile } from './streams.ts';

useMoto();

const soon = () => new Date(Date.now() + 600_000);

/** Records the input of every S3 command the client sends, by command name. */
function recordCommands(s3: S3Client): Map<string, Record<string, unknown>[]> {
  const seen = new Map<string, Record<string, unknown>[]>();
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const list = seen.get(context.commandName!) ?? [];
      list.push(args.input as Record<string, unknown>);
      seen.set(context.commandName!, list);
      return next(args);
    },
    { step: 'initialize' },
  );
  return seen;
}

describe('S3BlobStore', () => {
  it('signs a PUT whose length and sha256 are signed headers, and S3 accepts exactly those headers', async () => {
    const clients = motoClients();
    const store = storeOn(clients, await freshResources(clients));
    const data = content('signed', 5000);
    const key = `staging/${newId()}/0`;

    const req = await store.signUpload(key, data.length, sha256(data), soon());
    const url = new URL(req.url);

    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host;x-amz-checksum-sha256');
    expect(url.searchParams.has('x-amz-checksum-sha256')).toBe(false);
    expect(Object.keys(req.headers).sort()).toEqual(['content-length', 'x-amz-checksum-sha256']);
    const put = await fetch(req.url, { method: 'PUT', headers: req.headers, body: data });
    expect(put.status).toBe(200);
    expect((await store.statStaged(key))?.size).toBe(data.length);
  });

  it('uploads 200 MiB in parts through presigned URLs, copies it part by part and serves it byte-identical', async () => {
    const clients = motoClients();
    const resources = await freshResources(clients);
    const commands = recordCommands(clients.s3);
    const store = storeOn(clients, resources, { minPartSize: 64 * MIB, copyPartThreshold: 64 * MIB });
    const file = new SyntheticFile(200 * MIB, 'multipart-200');
    const digest = file.sha256();
    const key = `staging/${newId()}/0`;

    const mp = await store.startMultipart(key, file.size, digest, soon());
    expect(mp.parts.length).toBeGreaterThanOrEqual(3);
    const parts = [];
    for (const part of mp.parts) {
      const start = (part.partNumber - 1) * mp.partSize;
      const length = Math.min(mp.partSize, file.size - start);
      expect(part.headers).toEqual({ 'content-length': String(length) });
      const res = await putStream(part.url, part.headers, file.range(start, length));
      expect(res.status).toBe(200);
      parts.push({ partNumber: part.partNumber, etag: res.etag! });
    }
    await store.completeMultipart(key, mp.multipartId, parts);
    await store.completeMultipart(key, mp.multipartId, parts);
    const staged = await store.statStaged(key);
    expect(await store.copyToBlob(key, digest)).toBe(true);
    await store.deleteStaged([key]);
    const url = await store.signDownload(digest, 'big.bin', 'application/x-test', soon());
    const got = await hashDownload(url);

    expect(staged).toEqual({ size: file.size });
    expect(commands.get('UploadPartCopyCommand')?.length).toBeGreaterThanOrEqual(3);
    expect(await store.statStaged(key)).toBeNull();
    expect(got).toMatchObject({ status: 200, size: file.size, sha256: digest });
    // S3 answers with these overrides; moto ignores them, so the signed URL is what can be checked.
    const query = new URL(url).searchParams;
    expect(query.get('response-content-disposition')).toBe('attachment; filename="big.bin"');
    expect(query.get('response-content-type')).toBe('application/x-test');
  }, 300_000);

  it('refuses to complete a multipart upload whose parts were never sent', async () => {
    const clients = motoClients();
    const store = storeOn(clients, await freshResources(clients));
    const key = `staging/${newId()}/0`;
    const mp = await store.startMultipart(key, 12 * MIB, sha256('x'), soon());

    const attempt = store.completeMultipart(key, mp.multipartId, []);

    await expect(attempt).rejects.toMatchObject({ code: 'UploadIncomplete' });
  });

  it('deletes in DeleteObjects batches of at most 1,000 keys', async () => {
    const clients = motoClients();
    const store = storeOn(clients, await freshResources(clients));
    const real = [];
    for (let i = 0; i < 3; i++) {
      const data = content(`batch-${i}`);
      const key = `staging/${newId()}/${i}`;
      const req = await store.signUpload(key, data.length, sha256(data), soon());
      await fetch(req.url, { method: 'PUT', headers: req.headers, body: data });
      real.push(key);
    }
    const keys = Array.from({ length: 2001 }, (_, i) => `staging/${newId()}/${i % 50}`);
    keys[0] = real[0]!;
    keys[1500] = real[1]!;
    keys[2000] = real[2]!;
    const commands = recordCommands(clients.s3);

    await store.deleteStaged(keys);

    const batches = commands
      .get('DeleteObjectsCommand')!
      .map((i) => (i.Delete as { Objects: unknown[] }).Objects);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 1]);
    for (const key of real) expect(await store.statStaged(key)).toBeNull();
  });
});

describe('choosePartSize', () => {
  it('covers any size up to 5 TiB in at most 10,000 whole-MiB parts of 5 MiB to 5 GiB', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 * 1024 ** 4 }),
        fc.integer({ min: 0, max: 64 * MIB }),
        (size, min) => {
          const part = choosePartSize(size, min);
          expect(part % MIB).toBe(0);
          expect(part).toBeGreaterThanOrEqual(Math.max(min, 1));
          expect(part).toBeLessThanOrEqual(5 * 1024 * MIB);
          expect(Math.ceil(size / part)).toBeLessThanOrEqual(10_000);
        },
      ),
    );
  });
});
