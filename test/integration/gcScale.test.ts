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
import { type GcReport, runGarbageCollection } from '../../functions/core/gc.ts';
import { defaultScanners } from '../../functions/core/scanners.ts';
import type { Index } from '../../functions/ports.ts';
import { admin } from '../support/coreHarness.ts';
import { MemoryBlobStore } from '../support/memoryBlobStore.ts';
import { inlineProvenanceQueue, MemoryStoreKeys } from '../support/memoryStoreKeys.ts';
import { TestClock } from '../support/testClock.ts';

/** A million by default, as issue 17 asks; `ARCA_GC_SCALE_VERSIONS` runs it smaller by hand. */
const VERSIONS = Number(process.env.ARCA_GC_SCALE_VERSIONS ?? 1_000_000);
const BUDGET_MS = 5000;
/** What a step may start late: the deadline check and the step's start are a lock renewal apart. */
const START_SLACK_MS = 1000;
const DAY_S = 86_400;
/** Index writes that each begin one GC step or batch. */
const STEP_STARTS = ['expireSession', 'tombstoneVersion', 'deleteVersion', 'markBlobsDeleting'] as const;
const WRITES = [...STEP_STARTS, 'forgetBlobs', 'saveGcPosition'] as const;

class Killed extends Error {}

interface Run {
  readonly report?: GcReport;
  readonly killed: boolean;
  readonly ms: number;
  /** Clock time at which each step or batch of the run started its write, from the run's start. */
  readonly stepStarts: number[];
}

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

/**
 * The index as one run sees it: each step's start is noted; with `killAfter`, the process "dies"
 * right after that many writes took effect (the write stands, nothing after it runs, and the dead
 * run never releases its lock).
 */
function watched(
  index: Index,
  clock: TestClock,
  started: number,
  stepStarts: number[],
  killAfter?: number,
): Index {
  let writes = 0;
  return new Proxy(index, {
    get(target, name, receiver) {
      const real = Reflect.get(target, name, receiver);
      if (typeof real !== 'function') return real;
      if (name === 'releaseGcLock' && killAfter !== undefined) return async () => undefined;
      if (!(WRITES as readonly (string | symbol)[]).includes(name)) return real.bind(target);
      return async (...args: unknown[]) => {
        if ((STEP_STARTS as readonly (string | symbol)[]).includes(name)) {
          stepStarts.push(clock.now().getTime() - started);
        }
        const result = await real.apply(target, args);
        if (killAfter !== undefined && ++writes >= killAfter)
          throw new Killed(`killed after ${String(name)}`);
        return result;
      };
    },
  });
}

async function run(deps: CoreDeps, clock: TestClock, killAfter?: number): Promise<Run> {
  const stepStarts: number[] = [];
  const started = clock.now().getTime();
  const index = watched(deps.index, clock, started, stepStarts, killAfter);
  const t0 = performance.now();
  try {
    const report = await runGarbageCollection({ ...deps, index }, admin, {
      maxActions: 1_000_000,
      budgetMs: BUDGET_MS,
    });
    return { report, killed: false, ms: performance.now() - t0, stepStarts };
  } catch (error) {
    if (!(error instanceof Killed)) throw error;
    clock.advance(6 * 60); // the dead run's lock expires (5 min)
    return { killed: true, ms: performance.now() - t0, stepStarts };
  }
}

describe(`GC at scale: ${VERSIONS} versions, ${BUDGET_MS / 1000} s runs`, () => {
  it('finishes in repeated bounded runs that each make progress, surviving kills, deleting each thing once', async () => {
    const { db, deps, index, blobs, clock } = await seededStore();
    const runs: Run[] = [];
    const kills = [40, 400, 4000, 7, 900];
    const started = performance.now();
    // Rounds: retention tombstones; past the grace the versions go; past the blob grace, their blobs.
    for (const advanceDays of [0, 2, 2]) {
      clock.advance(advanceDays * DAY_S);
      for (;;) {
        const positionBefore = await index.getGcPosition();
        const killAfter = runs.length % 2 === 1 ? kills.shift() : undefined;
        const result = await run(deps, clock, killAfter);
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
    console.log(
      `GC at scale: ${runs.length} runs (${runs.filter((r) => r.killed).length} killed) to completion over ${VERSIONS} versions in ${seconds.toFixed(1)} s = ${Math.round(VERSIONS / seconds)} versions/s; longest run ${Math.round(Math.max(...runs.map((r) => r.ms)))} ms`,
    );

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
