import { join } from 'node:path';
import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import type { Caller } from '../../functions/core/deps.ts';
import { type GcReport, runGarbageCollection } from '../../functions/core/gc.ts';
import { createEmbeddedBackend } from '../../functions/local/embeddedBackend.ts';
import type { Clock } from '../../functions/ports.ts';
import type { BenchContext } from '../lib/context.ts';
import { seedScaleVersions } from '../lib/gcScaleSeed.ts';

const CASE = '10 GC at scale';
const BUDGET_MS = 5000;
const DAY_MS = 86_400_000;
const ADMIN: Caller = {
  principal: { id: 'bench', kind: 'admin', admin: true, roles: {} },
  requestId: 'bench',
};

/** Real time plus an offset the case moves past the grace periods. */
class MovableClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/**
 * Issue 17's GC at scale, measured: a million versions (11 per package, one over the default
 * `keepLast` of 10) seeded straight into an embedded index, then GC in runs of a 5 s budget, as the
 * schedule runs it, until retention, the version grace and the blob grace have all been worked
 * through. Figures: versions processed per second of GC, runs to completion, the longest run.
 */
export async function gcAtScale(ctx: BenchContext): Promise<void> {
  const count = ctx.scale.name === 'full' ? 1_000_000 : 5_500;
  const dataDir = join(ctx.tmp, 'gc-scale');
  const clock = new MovableClock();
  ctx.progress(`gc at scale: seeding ${count.toLocaleString('en-US')} versions`);
  const db = openDatabase(join(dataDir, 'index.sqlite'));
  await seedScaleVersions(db, count, new Date(Date.now() - 60 * DAY_MS), new Date(Date.now() + 365 * DAY_MS));
  db.close();
  const backend = await createEmbeddedBackend({ dataDir, publicUrl: 'http://127.0.0.1:1', clock });
  const reports: GcReport[] = [];
  let gcMs = 0;
  let longest = 0;
  try {
    for (const advanceDays of [0, 2, 2]) {
      clock.offsetMs += advanceDays * DAY_MS;
      for (let done = false; !done; ) {
        const started = performance.now();
        const report = await runGarbageCollection(backend.deps, ADMIN, {
          maxActions: 1_000_000,
          budgetMs: BUDGET_MS,
        });
        const ms = performance.now() - started;
        gcMs += ms;
        longest = Math.max(longest, ms);
        reports.push(report);
        done = report.stoppedBy === 'done';
      }
    }
  } finally {
    await backend.close();
  }
  const deleted = reports.reduce((n, r) => n + r.deleted.versions, 0);
  ctx.note(
    `GC at scale: ${reports.length} runs of ${BUDGET_MS / 1000} s budget to finish ${count} versions (${deleted} deleted with their blobs); longest run ${Math.round(longest)} ms`,
  );
  ctx.add({
    case: CASE,
    name: `versions processed (${count.toLocaleString('en-US')}, 5 s runs)`,
    value: count / (gcMs / 1000),
    unit: 'versions/s',
    better: 'higher',
  });
  ctx.add({ case: CASE, name: 'runs to completion', value: reports.length, unit: 'runs', better: 'lower' });
  ctx.add({
    case: CASE,
    name: 'longest run (budget 5 s)',
    value: longest / 1000,
    unit: 's',
    better: 'lower',
    target: { op: '≤', value: 6, text: '≤ budget + one batch' },
  });
}
