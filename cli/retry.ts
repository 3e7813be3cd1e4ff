import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient } from './errors.ts';

export interface RetryPolicy {
  /** Attempts after the first. */
  readonly retries: number;
  /** Delay before the first retry; doubles each time, capped at `maxDelayMs`, then jittered. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseDelayMs: 250, maxDelayMs: 8_000 };

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, or runs out of retries.
 * Equal jitter (half the delay fixed, half random) keeps parallel parts that failed together from
 * retrying in lockstep.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  onRetry?: (error: unknown, n: number, delayMs: number) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.retries || !isTransient(error)) throw error;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n);
      const delayMs = Math.round(cap / 2 + (Math.random() * cap) / 2);
      onRetry?.(error, n + 1, delayMs);
      await sleep(delayMs);
    }
  }
}
