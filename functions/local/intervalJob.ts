/**
 * Runs `job` every `intervalMs`, never two at once: a tick while the last run is in progress is
 * skipped. The timer does not keep the process alive; `stop` waits for the run in progress. `job`
 * handles its own errors (a rejection here would be unhandled).
 */
export function everyInterval(intervalMs: number, job: () => Promise<void>): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= job().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
