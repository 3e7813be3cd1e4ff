import type { CoreDeps } from '../core/deps.ts';
import { rematchVulnerabilities } from '../core/vulns/rematch.ts';

/**
 * Checks the advisory database every `intervalMs` and, when it changed, matches every kept SBOM
 * against it again (core/vulns/rematch.ts), logging what it found. Never overlaps itself.
 */
export function startAdvisorySchedule(
  deps: CoreDeps,
  intervalMs: number,
  log: (line: Record<string, unknown>) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= rematchVulnerabilities(deps)
      .then((report) => {
        if (report && report.rematched > 0)
          log({ level: 'info', msg: 'vulnerabilities rematched', ...report });
      })
      .catch((error) =>
        log({
          level: 'error',
          msg: 'vulnerability rematch failed',
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
