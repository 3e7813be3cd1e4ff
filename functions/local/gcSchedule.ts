import type { Caller, CoreDeps } from '../core/deps.ts';
import { type GcReport, isGcRunning, runGarbageCollection } from '../core/gc.ts';
import { everyInterval } from './intervalJob.ts';

/** The scheduler's own identity in audit events. */
export const GC_CALLER: Caller = {
  principal: { id: 'gc-schedule', kind: 'admin', admin: true, roles: {} },
  requestId: 'gc-schedule',
};

/** A scheduled run's time budget: a turn never holds the GC lock longer than this (plus one batch). */
const RUN_BUDGET_MS = 30_000;

/**
 * The local stand-in for the EventBridge schedule: runs GC every `intervalMs`, each run bounded by
 * RUN_BUDGET_MS and resuming where the last stopped (the index keeps the position); a run that ends
 * on its action limit is followed by the next at once. Never overlaps itself.
 */
export function startGcSchedule(
  deps: CoreDeps,
  intervalMs: number,
  log: (line: Record<string, unknown>) => void,
): { stop(): Promise<void> } {
  return everyInterval(intervalMs, async () => {
    try {
      let report: GcReport;
      do {
        report = await runGarbageCollection(deps, GC_CALLER, { maxActions: 10_000, budgetMs: RUN_BUDGET_MS });
        log({ level: 'info', msg: 'gc run', ...report });
      } while (report.stoppedBy === 'maxActions');
    } catch (error) {
      if (isGcRunning(error)) log({ level: 'info', msg: 'gc skipped: another run holds the GC lock' });
      else
        log({
          level: 'error',
          msg: 'gc failed',
          error: error instanceof Error ? error.stack : String(error),
        });
    }
  });
}
