import { ThrottledError } from '../../core/errors.ts';

export interface RetryOptions {
  /** Attempts in all, the first included (default 8). */
  readonly maxAttempts?: number;
  /** First backoff ceiling in ms, doubled per attempt (default 25). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Injected by tests that must not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Errors that say "not now" rather than "no": DynamoDB throttling and transaction contention. */
const TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
]);
const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT.has(error.name)) return true;
  if (error.name !== 'TransactionCanceledException') return false;
  // A cancelled transaction is retried only when nothing in it failed a condition: a failed
  // condition is an answer, contention on an item is not.
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return (
    reasons.some((r) => TRANSIENT_REASONS.has(r.Code ?? '')) &&
    !reasons.some((r) => r.Code === 'ConditionalCheckFailed')
  );
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation`, retrying transient failures with full-jitter exponential backoff (the SDK's own
 * retries cover single requests; this also covers transaction conflicts, which the SDK does not
 * retry). Still throttled after the last attempt → ThrottledError, which the API answers with 429.
 */
export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error)) throw error;
      await backOff(attempt, options, error);
    }
  }
}

/** Waits before attempt `attempt + 1`, or throws ThrottledError when that would exceed the limit. */
export async function backOff(attempt: number, options: RetryOptions, cause?: unknown): Promise<void> {
  if (attempt >= (options.maxAttempts ?? 8)) {
    throw new ThrottledError('the index is busy; try again shortly', { cause });
  }
  const ceiling = Math.min(options.maxDelayMs ?? 2000, (options.baseDelayMs ?? 25) * 2 ** attempt);
  await (options.sleep ?? realSleep)(Math.random() * ceiling);
}
