import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UploadIncompleteError } from '../../functions/core/errors.ts';
import { runGarbageCollection } from '../../functions/core/gc.ts';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { packKeyOf } from '../../functions/core/stagingKeys.ts';
import { abortUpload, commitUpload, createUpload } from '../../functions/core/uploads.ts';
import { getVersion } from '../../functions/core/versions.ts';
import type { ScanOutcome } from '../../functions/ports.ts';
import { admin, type CoreHarness, coreHarness } from '../support/coreHarness.ts';
import { content, sha256 } from '../support/fixtures.ts';

describe('packed uploads', () => {
  let h: CoreHarness;
  beforeEach(() => {
    h = coreHarness();
  });
  afterEach(() => h.close());
  const ref = { namespace: 'demo', package: 'app', version: '1.0.0' };

  /** Six small files around one above the memory store's multipart threshold (1 KiB). */
  const tree = () => [
    ...Array.from({ length: 3 }, (_, i) => content(`small-${i}`, 100 + i)),
    content('big', 3000),
    ...Array.from({ length: 3 }, (_, i) => content(`tail-${i}`, 200 + i)),
  ];

  const open = (data: readonly Buffer[], pack = true) =>
    createUpload(h.deps, admin, {
      ...ref,
      metadata: {},
      pack,
      files: data.map((d, i) => ({
        name: `f${i}`,
        size: d.length,
        sha256: sha256(d),
        mediaType: 'application/octet-stream',
      })),
    });

  /** Stages what a client sends: the pack, and the big file assembled from its parts. */
  const send = async (created: Awaited<ReturnType<typeof open>>, data: readonly Buffer[], packed = data) => {
    h.blobs.stage(packKeyOf(created.uploadId), Buffer.concat(created.pack!.files.map((i) => packed[i]!)));
    const session = (await h.deps.index.getSession(created.uploadId))!;
    for (const [i, f] of session.files.entries()) {
      if (!f.packed && f.stagingKey) h.blobs.stage(f.stagingKey, data[i]!);
    }
  };

  it('packs every small file into one PUT and leaves the big one to its own upload', async () => {
    const data = tree();
    const created = await open(data);

    expect(created.files.map((f) => f.action)).toEqual([
      'packed',
      'packed',
      'packed',
      'upload',
      'packed',
      'packed',
      'packed',
    ]);
    expect(created.files[3]!.multipart).toBeDefined();
    expect(created.pack).toMatchObject({ method: 'PUT', files: [0, 1, 2, 4, 5, 6] });
    expect(created.pack!.size).toBe(data.filter((d) => d.length < 1024).reduce((n, d) => n + d.length, 0));
    expect(created.pack!.headers['content-length']).toBe(String(created.pack!.size));
  });

  it('answers no pack to a client that does not ask, or that has no small file to send', async () => {
    const plain = await open([content('a', 10)], false);
    expect(plain.pack).toBeUndefined();
    expect(plain.files[0]!.action).toBe('upload');
    const big = await createUpload(h.deps, admin, {
      ...ref,
      version: '2.0.0',
      metadata: {},
      pack: true,
      files: [
        { name: 'big', size: 5000, sha256: sha256(content('x')), mediaType: 'application/octet-stream' },
      ],
    });
    expect(big.pack).toBeUndefined();
  });

  it('verifies and stores every file of a pack, byte for byte, then drops the pack', async () => {
    const data = tree();
    const created = await open(data);
    await send(created, data);
    await commitUpload(h.deps, admin, { uploadId: created.uploadId });

    expect(await scanStagedObject(h.deps, packKeyOf(created.uploadId))).toBe('verified');
    const session = (await h.deps.index.getSession(created.uploadId))!;
    expect(await scanStagedObject(h.deps, session.files[3]!.stagingKey!)).toBe('verified');

    const v = await getVersion(h.deps, admin, ref);
    expect(v.state).toBe('available');
    for (const d of data) expect(h.blobs.blobs.get(sha256(d))).toEqual(d);
    expect(h.blobs.staged.size).toBe(0);
  });

  it('rejects only the tampered file inside a pack; the others are verified', async () => {
    const data = tree();
    const created = await open(data);
    const sent = data.map((d, i) => (i === 1 ? Buffer.from(d).fill(0x21) : d));
    await send(created, data, sent);
    await commitUpload(h.deps, admin, { uploadId: created.uploadId });

    expect(await scanStagedObject(h.deps, packKeyOf(created.uploadId))).toBe('rejected');

    const v = await getVersion(h.deps, admin, ref);
    expect(v.state).toBe('quarantined');
    expect(v.files[1]!.scan.findings[0]).toMatchObject({ scanner: 'digest', rule: 'digest-mismatch' });
    for (const i of [0, 2, 4, 5, 6]) {
      expect(v.files[i]!.scan.status).toBe('clean');
      expect(h.blobs.blobs.get(sha256(data[i]!))).toEqual(data[i]);
    }
    expect(h.blobs.blobs.has(sha256(data[1]!))).toBe(false);
    expect(h.blobs.staged.has(packKeyOf(created.uploadId))).toBe(false);
  });

  it.each([1, 8])(
    'resumes a scan killed half-way through a pack without recording any verdict twice (%i at once)',
    async (concurrency) => {
      const deps = { ...h.deps, packScanConcurrency: concurrency };
      const data = tree();
      const created = await open(data);
      await send(created, data);
      await commitUpload(h.deps, admin, { uploadId: created.uploadId });
      const recorded: number[] = [];
      const recordScan = h.deps.index.recordScan.bind(h.deps.index);
      h.deps.index.recordScan = (outcome: ScanOutcome) => {
        recorded.push(outcome.fileIndex);
        return recordScan(outcome);
      };
      // The process dies while storing the third packed file it verified.
      const putBlob = h.blobs.putBlob.bind(h.blobs);
      let puts = 0;
      h.blobs.putBlob = async (sha, bytes) => {
        if (++puts === 3) throw new Error('killed');
        return putBlob(sha, bytes);
      };

      await expect(scanStagedObject(deps, packKeyOf(created.uploadId))).rejects.toThrow('killed');
      const first = [...recorded];
      expect(first.length).toBeLessThan(6);
      expect(h.blobs.staged.has(packKeyOf(created.uploadId))).toBe(true);

      expect(await scanStagedObject(deps, packKeyOf(created.uploadId))).toBe('verified');
      // Every file has exactly one verdict: the second run recorded only those the first had not.
      expect([...recorded].sort()).toEqual([0, 1, 2, 4, 5, 6]);
      expect(recorded.slice(0, first.length)).toEqual(first);
      for (const i of [0, 1, 2, 4, 5, 6]) expect(h.blobs.blobs.get(sha256(data[i]!))).toEqual(data[i]);
      expect(h.blobs.staged.has(packKeyOf(created.uploadId))).toBe(false);
    },
  );

  it('refuses a commit before the pack is uploaded (UploadIncomplete), naming a packed file', async () => {
    const data = [content('a', 10), content('b', 20)];
    const created = await open(data);

    const refused = await commitUpload(h.deps, admin, { uploadId: created.uploadId }).catch((e) => e);

    expect(refused).toBeInstanceOf(UploadIncompleteError);
    expect(refused.details).toMatchObject({ file: 'f0', pack: true });
    expect((await h.deps.index.getSession(created.uploadId))!.state).toBe('open');
  });

  it('deletes the pack when the upload is aborted', async () => {
    const data = [content('a', 10), content('b', 20)];
    const created = await open(data);
    await send(created, data);

    await abortUpload(h.deps, admin, created.uploadId);

    expect(h.blobs.staged.has(packKeyOf(created.uploadId))).toBe(false);
    expect(await scanStagedObject(h.deps, packKeyOf(created.uploadId))).toBe('skipped');
    expect(h.blobs.blobs.size).toBe(0);
  });

  it('deletes the staged pack when GC expires the session', async () => {
    const data = [content('expire-a', 10), content('expire-b', 20)];
    const created = await open(data);
    await send(created, data);
    h.clock.advance(2 * 3600);

    const report = await runGarbageCollection(h.deps, admin, { maxActions: 100 });

    expect(report.deleted.sessions).toBe(1);
    expect(h.blobs.staged.has(packKeyOf(created.uploadId))).toBe(false);
  });
});
