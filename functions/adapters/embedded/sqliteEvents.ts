import type Database from 'better-sqlite3';
import type { RelayMark } from '../../core/eventRelay.ts';
import type { StoreEvent } from '../../core/events.ts';
import type { DeliveryView, WebhookRecord } from '../../core/webhooks.ts';
import type { AuditEvent, EventPort, MetricsPort, WebhookStore } from '../../ports.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, namespace TEXT NOT NULL,
  type TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
  namespace TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (namespace, id)
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  event_seq INTEGER NOT NULL, webhook_id TEXT NOT NULL, namespace TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','delivered','failed')),
  attempts INTEGER NOT NULL, next_at INTEGER NOT NULL,
  last_status INTEGER, last_error TEXT, delivered_at TEXT,
  PRIMARY KEY (event_seq, webhook_id)
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON webhook_deliveries (webhook_id, event_seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_by_namespace ON webhook_deliveries (namespace, event_seq);
CREATE TABLE IF NOT EXISTS event_relay (id INTEGER PRIMARY KEY CHECK (id = 1), audit_id TEXT NOT NULL);
`;

/** A delivery the dispatcher may attempt now: the oldest pending one of its webhook, and due. */
export interface DueDelivery {
  readonly eventSeq: number;
  readonly eventId: string;
  readonly body: string;
  readonly attempts: number;
  readonly webhook: WebhookRecord | null;
  readonly webhookId: string;
}

interface DeliveryRow {
  event_seq: number;
  webhook_id: string;
  state: DeliveryView['state'];
  attempts: number;
  next_at: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
  id: string;
  type: string;
  subject: string;
}

/**
 * The local event outbox, in the index's SQLite file: an event is stored once (its id is unique, so
 * a retried change adds nothing) together with one delivery per webhook of its namespace that wants
 * its type, in one transaction. The dispatcher (local/webhookDispatcher.ts) works the deliveries.
 * Store-wide events (`arcanamespace` `*`, a GC run) are kept in the outbox and go to no namespace's
 * webhooks: their counts span every namespace.
 */
export class SqliteEventOutbox implements EventPort, WebhookStore {
  private readonly s;
  private listener: () => void = () => {};

  constructor(
    private readonly db: Database.Database,
    private readonly metrics?: MetricsPort,
  ) {
    db.exec(SCHEMA);
    this.s = {
      insertEvent: db.prepare(
        'INSERT OR IGNORE INTO events (id, namespace, type, subject, body) VALUES (?, ?, ?, ?, ?)',
      ),
      webhooks: db.prepare('SELECT record FROM webhooks WHERE namespace = ? ORDER BY rowid'),
      webhook: db.prepare('SELECT record FROM webhooks WHERE id = ?'),
      deleteWebhooks: db.prepare('DELETE FROM webhooks WHERE namespace = ?'),
      insertWebhook: db.prepare('INSERT INTO webhooks (namespace, id, record) VALUES (?, ?, ?)'),
      insertDelivery: db.prepare(
        `INSERT INTO webhook_deliveries (event_seq, webhook_id, namespace, state, attempts, next_at)
         VALUES (?, ?, ?, 'pending', 0, ?)`,
      ),
      audit: db.prepare(
        `INSERT INTO audit (at, actor, action, namespace, target, request_id, details)
         VALUES (@at, @actor, @action, @namespace, @target, @requestId, @details)`,
      ),
      due: db.prepare(`
        SELECT d.event_seq, d.webhook_id, d.attempts, e.id, e.body FROM webhook_deliveries d
        JOIN events e ON e.seq = d.event_seq
        WHERE d.state = 'pending' AND d.next_at <= ? AND d.event_seq = (
          SELECT MIN(p.event_seq) FROM webhook_deliveries p WHERE p.webhook_id = d.webhook_id AND p.state = 'pending')
        ORDER BY d.event_seq LIMIT ?`),
      nextDue: db.prepare("SELECT MIN(next_at) AS at FROM webhook_deliveries WHERE state = 'pending'"),
      settle: db.prepare(
        `UPDATE webhook_deliveries SET state = @state, attempts = attempts + 1, next_at = @nextAt,
           last_status = @status, last_error = @error, delivered_at = @deliveredAt
         WHERE event_seq = @seq AND webhook_id = @webhookId AND state = 'pending'`,
      ),
      deliveries: db.prepare(`
        SELECT d.*, e.id, e.type, e.subject FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.namespace = @namespace AND (@state IS NULL OR d.state = @state)
        ORDER BY d.event_seq DESC, d.webhook_id LIMIT @limit`),
      events: db.prepare('SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
      relayMark: db.prepare('SELECT audit_id FROM event_relay WHERE id = 1'),
      setRelayMark: db.prepare(
        'INSERT INTO event_relay (id, audit_id) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET audit_id = excluded.audit_id',
      ),
      auditEnd: db.prepare('SELECT MAX(id) AS id FROM audit'),
    };
  }

  /** Called after an event queued deliveries: the dispatcher wakes rather than wait for its timer. */
  onQueued(listener: () => void): void {
    this.listener = listener;
  }

  async emit(event: StoreEvent): Promise<void> {
    const queued = this.db
      .transaction(() => {
        const { id, arcanamespace: ns, type, subject } = event;
        const inserted = this.s.insertEvent.run(id, ns, type, subject, JSON.stringify(event));
        if (inserted.changes === 0) return -1; // the same change, emitted again by its retry
        this.metrics?.count('events', { type });
        if (ns === '*') return 0;
        const wanted = this.hooks(ns).filter((w) => !w.types || w.types.includes(type));
        for (const w of wanted) this.s.insertDelivery.run(inserted.lastInsertRowid, w.id, ns, Date.now());
        return wanted.length;
      })
      .immediate();
    if (queued > 0) this.listener();
  }

  async putWebhooks(namespace: string, webhooks: readonly WebhookRecord[], audit: AuditEvent): Promise<void> {
    this.db
      .transaction(() => {
        this.s.deleteWebhooks.run(namespace);
        for (const w of webhooks) this.s.insertWebhook.run(namespace, w.id, JSON.stringify(w));
        this.s.audit.run({ ...audit, details: audit.details ? JSON.stringify(audit.details) : null });
      })
      .immediate();
  }

  async listWebhooks(namespace: string): Promise<WebhookRecord[]> {
    return this.hooks(namespace);
  }

  async listDeliveries(
    namespace: string,
    query: { readonly state?: DeliveryView['state']; readonly limit: number },
  ): Promise<DeliveryView[]> {
    const rows = this.s.deliveries.all({
      namespace,
      state: query.state ?? null,
      limit: query.limit,
    }) as DeliveryRow[];
    return rows.map((r) => ({
      webhookId: r.webhook_id,
      eventId: r.id,
      type: r.type,
      subject: r.subject,
      state: r.state,
      attempts: r.attempts,
      nextAttemptAt: r.state === 'pending' ? new Date(r.next_at).toISOString() : null,
      lastStatus: r.last_status,
      lastError: r.last_error,
      deliveredAt: r.delivered_at,
    }));
  }

  /** Where `relayAuditedChanges` (core/eventRelay.ts) stopped, and the audit log's end. */
  relayMark(): RelayMark {
    return {
      get: () => (this.s.relayMark.get() as { audit_id: string } | undefined)?.audit_id,
      end: () => {
        const { id } = this.s.auditEnd.get() as { id: number | null };
        return id === null ? undefined : String(id);
      },
      set: (position) => void this.s.setRelayMark.run(position),
      start: '0',
    };
  }

  /** Every event recorded after `afterSeq`, oldest first (tests and tools read the outbox). */
  eventsAfter(afterSeq: number, limit: number): StoreEvent[] {
    return (this.s.events.all(afterSeq, limit) as { body: string }[]).map((r) => JSON.parse(r.body));
  }

  /** Deliveries to attempt now, at most one per webhook (its oldest pending), so each keeps order. */
  due(now: number, limit: number): DueDelivery[] {
    const rows = this.s.due.all(now, limit) as {
      event_seq: number;
      webhook_id: string;
      attempts: number;
      id: string;
      body: string;
    }[];
    return rows.map((r) => {
      const found = this.s.webhook.get(r.webhook_id) as { record: string } | undefined;
      return {
        eventSeq: r.event_seq,
        eventId: r.id,
        body: r.body,
        attempts: r.attempts,
        webhookId: r.webhook_id,
        webhook: found ? (JSON.parse(found.record) as WebhookRecord) : null,
      };
    });
  }

  /** When the earliest pending delivery is due (ms since the epoch), or null when none is pending. */
  nextDueAt(): number | null {
    return (this.s.nextDue.get() as { at: number | null }).at;
  }

  /** Records an attempt: delivered, failed for good, or pending again at `nextAt`. */
  settle(
    delivery: Pick<DueDelivery, 'eventSeq' | 'webhookId'>,
    outcome: {
      readonly state: DeliveryView['state'];
      readonly status: number | null;
      readonly error: string | null;
      readonly nextAt: number;
      readonly at: Date;
    },
  ): void {
    this.s.settle.run({
      seq: delivery.eventSeq,
      webhookId: delivery.webhookId,
      state: outcome.state,
      nextAt: outcome.nextAt,
      status: outcome.status,
      error: outcome.error,
      deliveredAt: outcome.state === 'delivered' ? outcome.at.toISOString() : null,
    });
  }

  private hooks(namespace: string): WebhookRecord[] {
    return (this.s.webhooks.all(namespace) as { record: string }[]).map((r) => JSON.parse(r.record));
  }
}
