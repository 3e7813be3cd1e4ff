import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planGarbageCollection, runGarbageCollection } from '../../functions/core/gc.ts';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { abortUpload, commitUpload, createUpload } from '../../functions/core/uploads.ts';
import { getVersion } from '../../functions/core/versions.ts';
import { admin, type CoreHarness, coreHarness } from '../support/coreHarness.ts';
import { content, sha256 } from '../support/fixtures.ts';

describe('GC over unreferenced blobs', () => {
  let h: CoreHarness;
  beforeEach(() => {
    h = coreHarness();
  });
  afterEach(() => h.close());

  /** `count` blobs nothing references, unreferenced since two days ago, with their bytes stored. */
  const seed = async (count: number) => {
    const since = new Date(h.clock.now().getTime() - 2 * 86_400_000);
    for (let i = 0; i < count; i++) {
      const data = Buffer.from(`orphan ${i}`);
      h.blobs.blobs.set(sha256(data), data);
      await h.deps.index.pinBlob(sha256(data), data.length, since);
    }
  };

  it('plans every deletable blob, beyond one batch of 1,000', async () => {
    await seed(1_250);
    const plan = await planGarbageCollection(h.deps, admin, { limit: 10 });
    expect(plan.counts.deleteBlob).toBe(1_250);
    expect(plan.actions).toHaveLength(10);
    expect(h.blobs.blobs.size).toBe(1_250);
  });

  it('deletes them in batches, within the run budget, and resumes from the next run', async () => {
    await seed(1_250);
    const first = await runGarbageCollection(h.deps, admin, { maxActions: 1_100 });
    expect(first.deleted.blobs).toBe(1_100);
    expect(first.nextCursor).not.toBeNull();
    const second = await runGarbageCollection(h.deps, admin, { maxActions: 1_100 });
    expect(second.deleted.blobs).toBe(150);
    expect(second.nextCursor).toBeNull();
    expect(h.blobs.blobs.size).toBe(0);
  });

  it('finishes a deletion a run stopped in the middle of, and the content can be published again', async () => {
    await seed(3);
    const deleteBlobs = h.blobs.deleteBlobs.bind(h.blobs);
    h.blobs.deleteBlobs = async () => {
      throw new Error('injected: the run timed out after marking the blobs deleting');
    };
    await expect(runGarbageCollection(h.deps, admin, { maxActions: 100 })).rejects.toThrow('injected');
    h.blobs.deleteBlobs = deleteBlobs;
    const orphan = Buffer.from('orphan 0');
    await expect(h.deps.index.pinBlob(sha256(orphan), orphan.length, h.clock.now())).rejects.toMatchObject({
      code: 'Conflict',
    });

    const plan = await planGarbageCollection(h.deps, admin, { limit: 10 });
    const run = await runGarbageCollection(h.deps, admin, { maxActions: 100 });

    expect(plan.actions.map((a) => a.reason)).toEqual(
      Array(3).fill('finishing a deletion an interrupted GC run began'),
    );
    expect(run.deleted.blobs).toBe(3);
    expect(h.blobs.blobs.size).toBe(0);
    expect((await h.deps.index.getBlobs([sha256(orphan)])).size).toBe(0);
    await h.deps.index.pinBlob(sha256(orphan), orphan.length, h.clock.now()); // publishable again
  });

  /** One file uploaded through a session; answers its staging key. */
  const upload = async (version: string, data: Buffer) => {
    const created = await createUpload(h.deps, admin, {
      namespace: 'demo',
      package: 'app',
      version,
      metadata: {},
      files: [{ name: 'a', size: data.length, sha256: sha256(data), mediaType: 'application/octet-stream' }],
    });
    const key = (await h.deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
    h.blobs.stage(key, data);
    return { uploadId: created.uploadId, key };
  };

  /** What a GC run killed between marking a blob and forgetting it leaves behind. */
  const killedMidDeletion = async (data: Buffer) => {
    await seedOne(data);
    const cutoff = h.clock.now();
    expect(await h.deps.index.markBlobsDeleting([sha256(data)], cutoff)).toEqual([sha256(data)]);
  };
  const seedOne = async (data: Buffer) => {
    h.blobs.blobs.set(sha256(data), data);
    await h.deps.index.pinBlob(sha256(data), data.length, new Date(h.clock.now().getTime() - 2 * 86_400_000));
  };

  it('publishes content a killed run left deleting: the commit and the scan finish that deletion (defect: a crash during GC blocked re-publishing)', async () => {
    const data = content('half-deleted', 300);
    await killedMidDeletion(data);
    const { uploadId, key } = await upload('1.0.0', data);
    expect((await commitUpload(h.deps, admin, { uploadId })).state).toBe('pending');
    expect(await scanStagedObject(h.deps, key)).toBe('verified');
    const v = await getVersion(h.deps, admin, { namespace: 'demo', package: 'app', version: '1.0.0' });
    expect(v.state).toBe('available');
    expect(h.blobs.blobs.get(sha256(data))).toEqual(data);
  });

  it('waits for a live run instead: while another holds the GC lock, the commit answers 409 and changes nothing', async () => {
    const data = content('live-run', 300);
    await killedMidDeletion(data);
    const now = h.clock.now();
    expect(await h.deps.index.acquireGcLock('live-run', now, new Date(now.getTime() + 60_000))).toBe(true);
    const { uploadId, key } = await upload('1.0.0', data);
    await expect(commitUpload(h.deps, admin, { uploadId })).rejects.toMatchObject({
      code: 'Conflict',
      details: { reason: 'blobDeleting' },
    });
    await expect(scanStagedObject(h.deps, key)).rejects.toMatchObject({ code: 'Conflict' });
    expect((await h.deps.index.getBlobs([sha256(data)])).get(sha256(data))!.state).toBe('deleting');
    // Once that run is gone (released, or its lock expired), the same commit goes through.
    await h.deps.index.releaseGcLock('live-run');
    expect((await commitUpload(h.deps, admin, { uploadId })).state).toBe('pending');
  });

  it('removes finished sessions 30 days past their expiry, and keeps open ones (defect: session rows were never purged)', async () => {
    const committed = await upload('1.0.0', content('kept-a-while', 10));
    await commitUpload(h.deps, admin, { uploadId: committed.uploadId });
    const aborted = await upload('1.0.1', content('aborted', 10));
    await abortUpload(h.deps, admin, aborted.uploadId);
    h.clock.advance(29 * 86_400);
    await runGarbageCollection(h.deps, admin, { maxActions: 100 });
    expect(await h.deps.index.getSession(committed.uploadId)).not.toBeNull();
    h.clock.advance(2 * 86_400);
    await runGarbageCollection(h.deps, admin, { maxActions: 100 });
    expect(await h.deps.index.getSession(committed.uploadId)).toBeNull();
    expect(await h.deps.index.getSession(aborted.uploadId)).toBeNull();
  });
});
