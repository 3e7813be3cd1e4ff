import type { ScanReport } from './model.ts';

/**
 * An engine could not scan (its daemon unreachable, its database unreadable): the bytes were not
 * scanned, which is never clean. The scan step records it as the file's scan `error` and fails, so it
 * is retried; `engine` names the engine as its `EngineRun` does.
 */
export class ScanEngineError extends Error {
  constructor(
    readonly engine: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Whether a recorded failed attempt already says what this one says: the index keeps the first of a
 * run of identical failures instead of rewriting the session on every retry.
 */
export function sameScanError(recorded: ScanReport | undefined, report: ScanReport): boolean {
  return (
    recorded?.error !== undefined &&
    recorded.error.engine === report.error?.engine &&
    recorded.error.message === report.error.message
  );
}
