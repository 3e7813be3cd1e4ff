import type { CoreDeps } from '../core/deps.ts';
import { rematchVulnerabilities } from '../core/vulns/rematch.ts';
import { everyInterval } from './intervalJob.ts';

/**
 * Checks the advisory database every `intervalMs` and, when it changed, matches every kept SBOM
 * against it again (core/vulns/rematch.ts), logging what it found. Never overlaps itself.
 */
export function startAdvisorySchedule(
  deps: CoreDeps,
  intervalMs: number,
  log: (line: Record<string, unknown>) => void,
): { stop(): Promise<void> } {
  return everyInterval(intervalMs, async () => {
    try {
      const report = await rematchVulnerabilities(deps);
      if (report && report.rematched > 0) log({ level: 'info', msg: 'vulnerabilities rematched', ...report });
    } catch (error) {
      log({
        level: 'error',
        msg: 'vulnerability rematch failed',
        error: error instanceof Error ? error.stack : String(error),
      });
    }
  });
}
