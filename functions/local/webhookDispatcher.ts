import type { DueDelivery, SqliteEventOutbox } from '../adapters/embedded/sqliteEvents.ts';
import type { MetricsPort } from '../ports.ts';
import { webhookHeaders } from './webhookSignature.ts';

export interface DispatcherOptions {
  /** Delay before the second attempt; each later one waits twice as long. @default 1_000 */
  readonly baseDelayMs?: number;
  /** Longest wait between two attempts. @default 3_600_000 */
  readonly maxDelayMs?: number;
  /** Attempts before a delivery is `failed` for good. @default 10 */
  readonly maxAttempts?: number;
  /** How long one attempt may take. @default 10_000 */
  readonly timeoutMs?: number;
  /** How often the outbox is looked at when nothing woke the dispatcher. @default 1_000 */
  readonly pollMs?: number;
  readonly metrics?: MetricsPort;
  readonly log?: (line: Record<string, unknown>) => void;
}

/**
 * Delivers the outbox's webhook deliveries: one POST per attempt, signed (Standard Webhooks), in
 * event order per webhook (a webhook's next event waits while its oldest is being retried), retried
 * with exponential backoff (base, 2×base, 4×base … capped) until `maxAttempts`, then `failed`; every
 * attempt's status or error is kept on the delivery, where `GET …/webhooks/deliveries` shows it.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly o: Required<Omit<DispatcherOptions, 'metrics' | 'log'>>;

  constructor(
    private readonly outbox: SqliteEventOutbox,
    private readonly options: DispatcherOptions = {},
  ) {
    this.o = {
      baseDelayMs: options.baseDelayMs ?? 1_000,
      maxDelayMs: options.maxDelayMs ?? 3_600_000,
      maxAttempts: options.maxAttempts ?? 10,
      timeoutMs: options.timeoutMs ?? 10_000,
      pollMs: options.pollMs ?? 1_000,
    };
    outbox.onQueued(() => this.wake());
  }

  start(): void {
    this.wake();
  }

  /** Runs a pass now (or right after the one in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      } else {
        this.schedule();
      }
    });
  }

  /** Waits for the attempt in progress; no new one starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    const next = this.outbox.nextDueAt();
    const wait = next === null ? this.o.pollMs : Math.max(0, Math.min(this.o.pollMs, next - Date.now()));
    this.timer = setTimeout(() => this.wake(), wait);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    for (;;) {
      const due = this.outbox.due(Date.now(), 32);
      if (due.length === 0 || this.stopped) return;
      await Promise.all(due.map((d) => this.attempt(d)));
    }
  }

  private async attempt(delivery: DueDelivery): Promise<void> {
    const at = new Date();
    if (!delivery.webhook) {
      this.outbox.settle(delivery, {
        state: 'failed',
        status: null,
        error: 'the webhook was removed',
        nextAt: 0,
        at,
      });
      return;
    }
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(delivery.webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents+json',
          ...webhookHeaders(delivery.webhook.secret, delivery.eventId, at, delivery.body),
        },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      status = res.status;
      await res.body?.cancel();
      if (status < 200 || status > 299) error = `the endpoint answered ${status}`;
    } catch (cause) {
      error = cause instanceof Error ? cause.message : String(cause);
    }
    const attempts = delivery.attempts + 1;
    const state = error === null ? 'delivered' : attempts >= this.o.maxAttempts ? 'failed' : 'pending';
    const delay = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempts - 1));
    this.outbox.settle(delivery, { state, status, error, nextAt: Date.now() + delay, at });
    this.options.metrics?.count('webhookDeliveries', { outcome: error === null ? 'delivered' : 'failed' });
    if (state === 'failed') {
      this.options.log?.({
        level: 'warn',
        msg: 'webhook delivery failed for good',
        eventId: delivery.eventId,
        webhookId: delivery.webhookId,
        error,
      });
    }
  }
}
