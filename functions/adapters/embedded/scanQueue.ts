import type Database from 'better-sqlite3';

/** Retries back off exponentially from 400 ms to this ceiling, and go on while the entry is queued. */
const MAX_RETRY_DELAY_MS = 60_000;

/**
 * The embedded stand-in for "S3 ObjectCreated → SQS": a durable queue table in the index database
 * plus an in-process worker pool. An entry stays until its scan finished, so a crash mid-scan is
 * retried at the next start, and the scan step itself is idempotent.
 */
export class ScanQueue {
  private readonly s;
  private readonly waiting = new Set<string>();
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private readonly attempts = new Map<string, number>();

  constructor(
    db: Database.Database,
    private readonly scan: (stagingKey: string) => Promise<unknown>,
    private readonly options: { concurrency?: number; onError?: (key: string, error: unknown) => void } = {},
  ) {
    this.s = {
      add: db.prepare('INSERT OR IGNORE INTO scan_queue VALUES (?, ?)'),
      remove: db.prepare('DELETE FROM scan_queue WHERE staging_key = ?'),
      all: db.prepare('SELECT staging_key FROM scan_queue ORDER BY enqueued_at'),
    };
  }

  /** Records the key durably, then schedules it. */
  enqueue(stagingKey: string): void {
    this.s.add.run(stagingKey, new Date().toISOString());
    this.schedule(stagingKey);
  }

  /** Re-schedules whatever a previous process left in the queue, plus keys found in storage. */
  recover(extraKeys: readonly string[] = []): number {
    for (const key of extraKeys) this.s.add.run(key, new Date().toISOString());
    const keys = (this.s.all.all() as { staging_key: string }[]).map((r) => r.staging_key);
    for (const key of keys) this.schedule(key);
    return keys.length;
  }

  private schedule(key: string): void {
    if (this.stopped) return;
    this.waiting.add(key);
    this.pump();
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 2;
    while (!this.stopped && this.running < limit && this.waiting.size > 0) {
      const key = this.waiting.values().next().value as string;
      this.waiting.delete(key);
      this.running++;
      this.scan(key)
        .then(
          () => {
            this.attempts.delete(key);
            this.s.remove.run(key);
          },
          (error) => this.retryLater(key, error),
        )
        .finally(() => {
          this.running--;
          this.pump();
          if (this.running === 0 && this.waiting.size === 0) this.notifyIdle();
        });
    }
  }

  /**
   * Like SQS redelivery, with growing delays up to a minute, for as long as the scan fails: a commit
   * whose scan waits on something passing (content a killed GC run left half deleted) becomes
   * available once it has passed, without a restart.
   */
  private retryLater(key: string, error: unknown): void {
    this.options.onError?.(key, error);
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const timer = setTimeout(() => this.schedule(key), Math.min(MAX_RETRY_DELAY_MS, 200 * 2 ** attempt));
    timer.unref();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once nothing is queued or running (tests, graceful shutdown). */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking new work and waits for the scans in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.clear();
    if (this.running > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
