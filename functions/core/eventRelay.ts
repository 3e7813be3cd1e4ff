import type { AuditEvent, EventPort, Index } from '../ports.ts';
import type { CoreDeps } from './deps.ts';
import {
  EVENT_TYPES,
  leaseEvent,
  versionDeletedEvent,
  versionPromotedEvent,
  versionPublishedEvent,
} from './events.ts';
import { describeVersions } from './versions.ts';

/** Where the relay stopped: the last audit position it read, kept by the outbox. */
export interface RelayMark {
  get(): string | undefined;
  /** The audit log's end now: where the next relay will start once this one is done. */
  end(): string | undefined;
  set(position: string): void;
  /** The position before the first audit record. */
  readonly start: string;
}

const refOf = (target: string) => {
  const m = /^([^/]+)\/([^@]+)@(.+)$/.exec(target);
  return m ? { namespace: m[1]!, package: m[2]!, version: m[3]! } : undefined;
};

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

type RelayDeps = Pick<CoreDeps, 'index' | 'clock' | 'cursors' | 'blobs'> & { readonly events: EventPort };

/**
 * Emits the event of one audited change, if it has one. On AWS the table's stream calls this for
 * every audit record written (functions/handlers/events.ts): the request that made the change does
 * not emit, so a failed put is retried from the stream instead of failing a request whose change is
 * already stored.
 */
export async function emitAuditedEvent(deps: RelayDeps, audit: AuditEvent): Promise<boolean> {
  const event = await eventOf(deps, audit);
  if (event) await deps.events.emit(event);
  return event !== undefined;
}

/**
 * The event an audited change emitted, rebuilt from its audit record (written in the change's own
 * transaction) with the same builder and so the same id: undefined for actions that emit none, and
 * for a commit whose version is gone since.
 */
async function eventOf(deps: RelayDeps, audit: AuditEvent) {
  const ref = refOf(audit.target);
  const details = audit.details ?? {};
  if (!ref) return undefined;
  switch (audit.action) {
    case 'upload.commit': {
      const uploadId = text(details.uploadId);
      const record = await deps.index.getVersion(ref.namespace, ref.package, ref.version);
      if (!uploadId || !record || record.uploadId !== uploadId) return undefined;
      const [version] = await describeVersions(deps as CoreDeps, [record]);
      return versionPublishedEvent(version!, uploadId);
    }
    case 'stage.promote':
      return versionPromotedEvent({
        ref,
        stage: text(details.stage) ?? '',
        previousVersion: text(details.previousVersion) ?? null,
        by: audit.actor,
        requestId: audit.requestId,
        at: audit.at,
      });
    case 'lease.acquire':
    case 'lease.release': {
      const lease = {
        ...ref,
        leaseId: text(details.leaseId) ?? '',
        holder: text(details.holder) ?? '',
        expiresAt: text(details.expiresAt) ?? '',
      };
      const type = audit.action === 'lease.acquire' ? EVENT_TYPES.leaseAcquired : EVENT_TYPES.leaseReleased;
      return leaseEvent(type, lease, audit.at);
    }
    case 'gc.deleteVersion':
      return versionDeletedEvent(ref, text(details.rule) ?? '', new Date(audit.at), audit.at);
    default:
      return undefined;
  }
}

/**
 * Emits again, from the audit log, the events of every audited change since the last relay: a change
 * is stored and audited in one transaction, then its event emitted; a process that died in between
 * left the audit record, and this sends its event (the outbox drops those already sent, by id). Run
 * at start, before any request. Answers how many audit records it read.
 */
export async function relayAuditedChanges(deps: RelayDeps, mark: RelayMark): Promise<number> {
  const end = mark.end();
  let after = mark.get();
  // The first start with an outbox: what came before was never meant to be sent.
  if (after === undefined) {
    mark.set(end ?? mark.start);
    return 0;
  }
  let read = 0;
  for (;;) {
    const page = await (deps.index as Index).listAudit({}, 500, after);
    for (const audit of page.items) {
      read++;
      await emitAuditedEvent(deps, audit);
    }
    if (page.next === undefined) break;
    after = page.next;
  }
  if (end !== undefined) mark.set(end);
  return read;
}
