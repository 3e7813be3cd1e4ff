import type { Caller, CoreDeps } from '../core/deps.ts';
import { isGcRunning, runGarbageCollection } from '../core/gc.ts';

/** The scheduler's own identity in audit events. */
export const GC_CALLER: Caller = {
  principal: { id: 'gc-schedule', kind: 'admin', admin: true, roles: {} },
  requestId: 'gc-schedule',
};

/**
 * The local stand-in for the EventBridge schedule: runs GC every `intervalMs`, following
 * `nextCursor` until a run finishes every phase. Never overlaps itself.
 */
export function startGcSchedule(
  deps: CoreDeps,
  intervalMs: number,
  log: (line: Record<string, unknown>) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = (async () => {
      let cursor: string | undefined;
      do {
        const report = await runGarbageCollection(deps, GC_CALLER, {
          maxActions: 10_000,
          ...(cursor ? { cursor } : {}),
        });
        log({ level: 'info', msg: 'gc run', ...report });
        cursor = report.nextCursor ?? undefined;
      } while (cursor);
    })()
      .catch((error) =>
        isGcRunning(error)
          ? log({ level: 'info', msg: 'gc skipped: another run holds the GC lock' })
          : log({
              level: 'error',
              msg: 'gc failed',
              error: error instanceof Error ? error.stack : String(error),
            }),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
