import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { PROTECTED_PACKAGES, seededPackage, seedScaleVersions } from '../../bench/lib/gcScaleSeed.ts';
import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import { SqliteIndex } from '../../functions/adapters/embedded/sqliteIndex.ts';
import { CursorCodec } from '../../functions/core/cursor.ts';
import { type CoreDeps, DEFAULT_CORE_CONFIG } from '../../functions/core/deps.ts';
import { runGarbageCollection } from '../../functions/core/gc.ts';
import { defaultScanners } from '../../functions/core/scanners.ts';
import type { Index } from '../../functions/ports.ts';
import { admin } from '../support/coreHarness.ts';
import { MemoryBlobStore } from '../support/memoryBlobStore.ts';
import { inlineProvenanceQueue, MemoryStoreKeys } from '../support/memoryStoreKeys.ts';
import { TestClock } from '../support/testClock.ts';

const DAY_MS = 86_400_000;
/** Packages beyond the seed's protected ones (promoted, then leased): their oldest version is due. */
const UNPROTECTED = 30;
const PACKAGES = 2 * PROTECTED_PACKAGES + UNPROTECTED;

/**
 * The seeded store, its package reads answering a little later as a remote index does, counting
 * how many are under way at once.
 */
async function remoteLikeStore() {
  const db = openDatabase(':memory:');
  const clock = new TestClock();
  await seedScaleVersions(
    db,
    PACKAGES * 11,
    new Date(clock.now().getTime() - 60 * DAY_MS),
    new Date(clock.now().getTime() + 365 * DAY_MS),
  );
  const reads = { inFlight: 0, most: 0 };
  const sqlite = new SqliteIndex(db);
  const index = new Proxy(sqlite, {
    get(target, name, receiver) {
      const real = Reflect.get(target, name, receiver);
      if (name !== 'listRetentionCandidates' || typeof real !== 'function') return real;
      return async (...args: unknown[]) => {
        reads.inFlight++;
        reads.most = Math.max(reads.most, reads.inFlight);
        try {
          await sleep(2);
          return await real.apply(target, args);
        } finally {
          reads.inFlight--;
        }
      };
    },
  }) as Index;
  const deps: CoreDeps = {
    index,
    blobs: new MemoryBlobStore(),
    clock,
    cursors: new CursorCodec(Buffer.alloc(32, 5)),
    scanners: defaultScanners,
    config: DEFAULT_CORE_CONFIG,
    keys: new MemoryStoreKeys(),
    provenanceQueue: inlineProvenanceQueue(() => deps),
  };
  return { db, deps, reads };
}

describe("GC's retention walk", () => {
  it('reads the next packages while it applies earlier ones, and tombstones exactly what one at a time would (defect: on DynamoDB each package waited for the last, four round trips apiece)', async () => {
    const { db, deps, reads } = await remoteLikeStore();

    const report = await runGarbageCollection(deps, admin, { maxActions: 10_000 });

    expect(reads.most).toBeGreaterThan(1);
    expect(report).toMatchObject({ stoppedBy: 'done', tombstoned: UNPROTECTED, skipped: 0 });
    const tombstoned = db
      .prepare("SELECT package, version FROM versions WHERE state = 'deleting' ORDER BY package")
      .all();
    expect(tombstoned).toEqual(
      Array.from({ length: UNPROTECTED }, (_, i) => ({
        package: seededPackage(2 * PROTECTED_PACKAGES + i),
        version: '1.0.0',
      })),
    );
  });

  it('leaves no read running once a run cut short by its budget returns, and the next run resumes', async () => {
    const { deps, reads } = await remoteLikeStore();

    const first = await runGarbageCollection(deps, admin, { maxActions: 10_000, budgetMs: 1 });
    expect(reads.inFlight).toBe(0);
    expect(first.stoppedBy).toBe('budget');

    let tombstoned = first.tombstoned;
    for (let runs = 0; runs < PACKAGES; runs++) {
      const next = await runGarbageCollection(deps, admin, { maxActions: 10_000 });
      expect(reads.inFlight).toBe(0);
      tombstoned += next.tombstoned;
      if (next.stoppedBy === 'done') break;
    }
    expect(tombstoned).toBe(UNPROTECTED);
  });
});
