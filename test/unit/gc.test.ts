import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planGarbageCollection, runGarbageCollection } from '../../functions/core/gc.ts';
import { admin, type CoreHarness, coreHarness } from '../support/coreHarness.ts';
import { sha256 } from '../support/fixtures.ts';

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
});
