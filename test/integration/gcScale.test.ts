import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PROTECTED_PACKAGES,
  seededPackage,
  seededSha,
  seedScaleVersions,
  VERSIONS_PER_PACKAGE,
} from '../../bench/lib/gcScaleSeed.ts';
import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import { SqliteIndex } from '../../functions/adapters/embedded/sqliteIndex.ts';
import { CursorCodec } from '../../functions/core/cursor.ts';
import { type CoreDeps, DEFAULT_CORE_CONFIG } from '../../functions/core/deps.ts';
import { defaultScanners } from '../../functions/core/scanners.ts';
import { type GcRun, gcRun, gcRunsSummary } from '../support/gcRuns.ts';
import { MemoryBlobStore } from '../support/memoryBlobStore.ts';
import { inlineProvenanceQueue, MemoryStoreKeys } from '../support/memoryStoreKeys.ts';
import { TestClock } from '../support/testClock.ts';

/** A million by default, as issue 17 asks; `ARCA_GC_SCALE_VERSIONS` runs it smaller by hand. */
const VERSIONS = Number(process.env.ARCA_GC_SCALE_VERSIONS ?? 1_000_000);
const BUDGET_MS = 5000;
/** What a step may start late: the deadline check and the step's start are a lock renewal apart. */
const START_SLACK_MS = 1000;
const DAY_S = 86_400;
const dir = mkdtempSync(join(tmpdir(), 'arca-gc-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The embedded index on a file, seeded; bytes in memory (one shared buffer: content is not the point). */
async function seededStore() {
  const db = openDatabase(join(dir, 'index.sqlite'));
  const clock = new TestClock();
  const then = new Date(clock.now().getTime() - 60 * DAY_S * 1000);
  const seeding = performance.now();
  await seedScaleVersions(db, VERSIONS, then, new Date(clock.now().getTime() + 365 * DAY_S * 1000));
  const blobs = new MemoryBlobStore();
  const bytes = Buffer.alloc(32);
  for (let i = 0; i < VERSIONS; i++) blobs.blobs.set(seededSha(i), bytes);
  console.log(`seeded ${VERSIONS} versions in ${Math.round(performance.now() - seeding)} ms`);
  const index = new SqliteIndex(db);
  const deps: CoreDeps = {
    index,
    blobs,
    clock,
    cursors: new CursorCodec(Buffer.alloc(32, 3)),
    scanners: defaultScanners,
    config: DEFAULT_CORE_CONFIG,
    keys: new MemoryStoreKeys(),
    provenanceQueue: inlineProvenanceQueue(() => deps),
  };
  return { db, deps, index, blobs, clock };
}

describe(`GC at scale: ${VERSIONS} versions, ${BUDGET_MS / 1000} s runs`, () => {
  it('finishes in repeated bounded runs that each make progress, surviving kills, deleting each thing once', async () => {
    const { db, deps, index, blobs, clock } = await seededStore();
    const runs: GcRun[] = [];
    const kills = [40, 400, 4000, 7, 900];
    const started = performance.now();
    // Rounds: retention tombstones; past the grace the versions go; past the blob grace, their blobs.
    for (const advanceDays of [0, 2, 2]) {
      clock.advance(advanceDays * DAY_S);
      for (;;) {
        const positionBefore = await index.getGcPosition();
        const killAfter = runs.length % 2 === 1 ? kills.shift() : undefined;
        const result = await gcRun(deps, clock, BUDGET_MS, killAfter);
        runs.push(result);
        if (result.killed) continue;
        const report = result.report!;
        const did = report.tombstoned + report.deleted.versions + report.deleted.blobs + report.skipped;
        // Progress: every run that did not finish did something, or moved the retention walk on.
        if (report.stoppedBy !== 'done')
          expect(did > 0 || (await index.getGcPosition()) !== positionBefore).toBe(true);
        for (const at of result.stepStarts) expect(at).toBeLessThan(BUDGET_MS + START_SLACK_MS);
        if (report.stoppedBy === 'done') break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(gcRunsSummary('GC at scale', runs, VERSIONS, seconds));

    // Nothing lost: the newest 10 of every package, and the protected oldest ones, are live.
    const live = db.prepare("SELECT count(*) AS n FROM versions WHERE state = 'live'").get() as { n: number };
    const fullPackages = Math.floor(VERSIONS / VERSIONS_PER_PACKAGE);
    const expectedDeleted = fullPackages - Math.min(2 * PROTECTED_PACKAGES, fullPackages);
    expect(live.n).toBe(VERSIONS - expectedDeleted);
    const oldest = db.prepare(
      "SELECT state FROM versions WHERE namespace = 'scale' AND package = ? AND version = '1.0.0'",
    );
    for (let p = 0; p < Math.min(2 * PROTECTED_PACKAGES, fullPackages); p++) {
      expect(oldest.get(seededPackage(p))).toEqual({ state: 'live' });
    }
    expect(oldest.get(seededPackage(2 * PROTECTED_PACKAGES))).toBeUndefined();
    // Every blob a live version references is stored; every other blob is gone, bytes and row.
    const orphans = db
      .prepare(
        'SELECT count(*) AS n FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256)',
      )
      .get() as { n: number };
    expect(orphans.n).toBe(0);
    expect(blobs.blobs.size).toBe(VERSIONS - expectedDeleted);
    const files = db.prepare('SELECT count(*) AS n FROM files f').get() as { n: number };
    expect(files.n).toBe(VERSIONS - expectedDeleted);

    // Each deletion happened once: one audit event per deleted version and per deleted blob.
    const events = db
      .prepare(
        `SELECT action, count(*) AS n, count(DISTINCT target) AS targets FROM audit
         WHERE action IN ('gc.tombstoneVersion', 'gc.deleteVersion', 'gc.deleteBlob') GROUP BY action`,
      )
      .all() as { action: string; n: number; targets: number }[];
    for (const action of ['gc.tombstoneVersion', 'gc.deleteVersion', 'gc.deleteBlob']) {
      expect(events.find((e) => e.action === action)).toEqual({
        action,
        n: expectedDeleted,
        targets: expectedDeleted,
      });
    }
    expect(runs.some((r) => r.killed)).toBe(true);
  }, 900_000);
});
