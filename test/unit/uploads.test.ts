import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveDownload } from '../../functions/core/downloads.ts';
import { scanStagedObject } from '../../functions/core/scan.ts';
import {
  abortUpload,
  type CreatedUpload,
  type CreateUploadInput,
  commitUpload,
  createUpload,
} from '../../functions/core/uploads.ts';
import { getVersion, listVersions } from '../../functions/core/versions.ts';
import { admin, type CoreHarness, coreHarness, reader } from '../support/coreHarness.ts';
import { content, sha256 } from '../support/fixtures.ts';

const input = (version: string, files: Record<string, Buffer>): CreateUploadInput => ({
  namespace: 'demo',
  package: 'app',
  version,
  metadata: {},
  files: Object.entries(files).map(([name, data]) => ({
    name,
    size: data.length,
    sha256: sha256(data),
    mediaType: 'application/octet-stream',
  })),
});

describe('upload use cases', () => {
  let h: CoreHarness;
  beforeEach(() => {
    h = coreHarness();
  });
  afterEach(() => h.close());

  /** Stages `bytes` as the parts of the created upload's first file; answers the parts to commit. */
  const stageParts = async (created: CreatedUpload, bytes: Buffer) => {
    const file = (await h.deps.index.getSession(created.uploadId))!.files[0]!;
    const { partSize, parts } = created.files[0]!.multipart!;
    return parts.map((p) => ({
      partNumber: p.partNumber,
      etag: h.blobs.stagePart(
        file.multipartId!,
        p.partNumber,
        bytes.subarray((p.partNumber - 1) * partSize, p.partNumber * partSize),
      ),
    }));
  };

  /** create → stage bytes → commit → scan each staged key. */
  const publish = async (version: string, files: Record<string, Buffer>) => {
    const created = await createUpload(h.deps, admin, input(version, files));
    const session = (await h.deps.index.getSession(created.uploadId))!;
    for (const f of session.files) if (f.stagingKey) h.blobs.stage(f.stagingKey, files[f.name]!);
    const committed = await commitUpload(h.deps, admin, { uploadId: created.uploadId });
    for (const f of session.files) if (f.stagingKey) await scanStagedObject(h.deps, f.stagingKey);
    return { created, committed };
  };

  describe('createUpload', () => {
    it('signs a single PUT for small files and parts above the threshold', async () => {
      const created = await createUpload(
        h.deps,
        admin,
        input('1.0.0', { small: content('s', 100), large: content('l', 2000) }),
      );
      expect(created.files[0]).toMatchObject({ action: 'upload', upload: { method: 'PUT' } });
      expect(created.files[1]).toMatchObject({ action: 'upload', multipart: { partSize: 512 } });
      expect(created.files[1]!.multipart!.parts).toHaveLength(4);
    });

    it('keeps a file uploaded in parts pending over content stored elsewhere until its own scan (defect: deduplication leaked content across namespaces)', async () => {
      const stored = content('alpha-secret', 2000);
      await publish('1.0.0', { a: stored });
      const beta: typeof admin = {
        principal: { id: 'beta-writer', kind: 'token', admin: false, roles: { beta: ['write'] } },
        requestId: 'req-beta',
      };
      const created = await createUpload(h.deps, beta, {
        ...input('1.0.0', { a: stored }),
        namespace: 'beta',
      });
      expect(created.files[0]).toMatchObject({ action: 'upload', multipart: { partSize: 512 } });
      // Parts carry no checksum: other bytes of the declared size are accepted by storage.
      const file = (await h.deps.index.getSession(created.uploadId))!.files[0]!;
      const parts = await stageParts(created, Buffer.alloc(stored.length, 0x5a));
      const committed = await commitUpload(h.deps, beta, {
        uploadId: created.uploadId,
        parts: new Map([['a', parts]]),
      });
      expect(committed.state).toBe('pending');
      const ref = { namespace: 'beta', package: 'app', version: '1.0.0' };
      await expect(resolveDownload(h.deps, beta, { ...ref, file: 'a' })).rejects.toMatchObject({
        code: 'Conflict',
      });
      expect(await scanStagedObject(h.deps, file.stagingKey!)).toBe('rejected');
      expect((await getVersion(h.deps, beta, ref)).state).toBe('quarantined');
    });

    it('answers exists for content already available', async () => {
      const data = content('dedupe');
      await publish('1.0.0', { a: data });
      const created = await createUpload(h.deps, admin, input('1.0.1', { b: data }));
      expect(created.files).toEqual([{ name: 'b', sha256: sha256(data), action: 'exists' }]);
    });

    it('refuses a version that exists', async () => {
      await publish('1.0.0', { a: content() });
      await expect(createUpload(h.deps, admin, input('1.0.0', { a: content() }))).rejects.toMatchObject({
        code: 'VersionExists',
      });
    });

    it('refuses a file above the configured maximum with TooLarge', async () => {
      const big = { ...input('1.0.0', { a: content() }) };
      const files = [{ ...big.files[0]!, size: h.deps.config.maxFileSize + 1 }];
      await expect(createUpload(h.deps, admin, { ...big, files })).rejects.toMatchObject({
        code: 'TooLarge',
      });
    });

    it('refuses a caller without the write role', async () => {
      await expect(createUpload(h.deps, reader, input('1.0.0', { a: content() }))).rejects.toMatchObject({
        code: 'Forbidden',
      });
    });
  });

  describe('commitUpload', () => {
    it('creates a pending version that turns available once its bytes are scanned', async () => {
      const data = content('pending');
      const created = await createUpload(h.deps, admin, input('1.0.0', { a: data }));
      const key = (await h.deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
      h.blobs.stage(key, data);
      expect((await commitUpload(h.deps, admin, { uploadId: created.uploadId })).state).toBe('pending');
      expect(await scanStagedObject(h.deps, key)).toBe('verified');
      const v = await getVersion(h.deps, admin, { namespace: 'demo', package: 'app', version: '1.0.0' });
      expect(v.state).toBe('available');
      expect(h.blobs.blobs.get(sha256(data))).toEqual(data);
    });

    it('is idempotent', async () => {
      const { created, committed } = await publish('1.0.0', { a: content() });
      const again = await commitUpload(h.deps, admin, { uploadId: created.uploadId });
      expect(again.createdAt).toBe(committed.createdAt);
    });

    it('answers UploadIncomplete without bytes and SizeMismatch with short bytes', async () => {
      const data = content('short', 300);
      const created = await createUpload(h.deps, admin, input('1.0.0', { a: data }));
      await expect(commitUpload(h.deps, admin, { uploadId: created.uploadId })).rejects.toMatchObject({
        code: 'UploadIncomplete',
      });
      const key = (await h.deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
      h.blobs.stage(key, data.subarray(0, 100));
      await expect(commitUpload(h.deps, admin, { uploadId: created.uploadId })).rejects.toMatchObject({
        code: 'SizeMismatch',
      });
    });

    it('commits bytes the scan has copied into storage but not yet recorded', async () => {
      const data = content('racing-scan');
      const created = await createUpload(h.deps, admin, input('1.0.0', { a: data }));
      const key = (await h.deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
      h.blobs.stage(key, data);
      await h.blobs.copyToBlob(key, sha256(data)); // the scan's copy, before its record
      expect((await commitUpload(h.deps, admin, { uploadId: created.uploadId })).state).toBe('pending');
      expect(await scanStagedObject(h.deps, key)).toBe('verified');
      expect(
        (await getVersion(h.deps, admin, { namespace: 'demo', package: 'app', version: '1.0.0' })).state,
      ).toBe('available');
    });

    it('answers UploadExpired after the session expired', async () => {
      const created = await createUpload(h.deps, admin, input('1.0.0', { a: content() }));
      h.clock.advance(3600);
      await expect(commitUpload(h.deps, admin, { uploadId: created.uploadId })).rejects.toMatchObject({
        code: 'UploadExpired',
      });
    });

    it('assembles multipart files from the listed parts', async () => {
      const data = content('parts', 1500);
      const created = await createUpload(h.deps, admin, input('1.0.0', { big: data }));
      const session = (await h.deps.index.getSession(created.uploadId))!;
      const parts = await stageParts(created, data);
      await expect(commitUpload(h.deps, admin, { uploadId: created.uploadId })).rejects.toMatchObject({
        code: 'UploadIncomplete',
      });
      await commitUpload(h.deps, admin, { uploadId: created.uploadId, parts: new Map([['big', parts]]) });
      expect(await scanStagedObject(h.deps, session.files[0]!.stagingKey!)).toBe('verified');
      expect(h.blobs.blobs.get(sha256(data))).toEqual(data);
    });

    it('commits a multipart file whose parts an earlier attempt assembled and the scan has since moved', async () => {
      // Regression (CLI directory publish on AWS): attempt 1 assembled the parts and lost to a
      // session change; the scan then verified the object, recorded its verdict and deleted it; the
      // retry, on the session it had read before the verdict, found nothing left to assemble.
      const data = content('raced parts', 1500);
      const created = await createUpload(h.deps, admin, input('1.0.0', { big: data }));
      const parts = await stageParts(created, data);
      const complete = h.blobs.completeMultipart.bind(h.blobs);
      let calls = 0;
      h.blobs.completeMultipart = async (key, id, list) => {
        if (++calls === 1) {
          await complete(key, id, list); // the earlier attempt's assembly …
          expect(await scanStagedObject(h.deps, key)).toBe('verified'); // … scanned and moved since
        }
        return complete(key, id, list); // this attempt: the parts are gone
      };

      const version = await commitUpload(h.deps, admin, {
        uploadId: created.uploadId,
        parts: new Map([['big', parts]]),
      });

      expect(version.files[0]).toMatchObject({ name: 'big', sha256: sha256(data) });
      expect(version.state).toBe('available');
    });
  });

  describe('abortUpload', () => {
    it('drops staged bytes, then the session is unknown to commit', async () => {
      const data = content('abort');
      const created = await createUpload(h.deps, admin, input('1.0.0', { a: data }));
      const key = (await h.deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
      h.blobs.stage(key, data);
      await abortUpload(h.deps, admin, created.uploadId);
      expect(h.blobs.staged.has(key)).toBe(false);
      await expect(commitUpload(h.deps, admin, { uploadId: created.uploadId })).rejects.toMatchObject({
        code: 'NotFound',
      });
    });

    it('refuses to abort a committed session', async () => {
      const { created } = await publish('1.0.0', { a: content() });
      await expect(abortUpload(h.deps, admin, created.uploadId)).rejects.toMatchObject({ code: 'Conflict' });
    });
  });

  describe('listVersions and resolveDownload', () => {
    it('pages newest first with a signed cursor that rejects tampering', async () => {
      for (const v of ['1', '2', '3']) await publish(v, { a: content(v) });
      const first = await listVersions(h.deps, reader, { namespace: 'demo', package: 'app', limit: 2 });
      expect(first.items.map((v) => v.version)).toEqual(['3', '2']);
      const second = await listVersions(h.deps, reader, {
        namespace: 'demo',
        package: 'app',
        limit: 2,
        cursor: first.nextCursor!,
      });
      expect(second.items.map((v) => v.version)).toEqual(['1']);
      expect(second.nextCursor).toBeNull();
      const other = listVersions(h.deps, reader, {
        namespace: 'demo',
        package: 'other',
        limit: 2,
        cursor: first.nextCursor!,
      });
      await expect(other).rejects.toMatchObject({ code: 'InvalidRequest' });
    });

    it('resolves a download only for an available version', async () => {
      const data = content('dl');
      await publish('1.0.0', { a: data });
      const got = await resolveDownload(h.deps, reader, {
        namespace: 'demo',
        package: 'app',
        version: '1.0.0',
        file: 'a',
      });
      expect(got).toMatchObject({ sha256: sha256(data), size: data.length });
      await expect(
        resolveDownload(h.deps, reader, { namespace: 'demo', package: 'app', version: '1.0.0', file: 'b' }),
      ).rejects.toMatchObject({ code: 'NotFound' });
    });
  });
});
