import { createHash } from 'node:crypto';
import type { EventPort } from '../ports.ts';
import type { Version } from './model.ts';

/**
 * State-change events, CloudEvents 1.0 in structured JSON mode. The same shape goes to a namespace's
 * webhooks (local server) and to the stack's EventBridge bus (AWS, `detail` = this object).
 */
export const EVENT_TYPES = {
  published: 'dev.arca.version.published',
  available: 'dev.arca.version.available',
  quarantined: 'dev.arca.version.quarantined',
  promoted: 'dev.arca.version.promoted',
  deleted: 'dev.arca.version.deleted',
  leaseAcquired: 'dev.arca.lease.acquired',
  leaseReleased: 'dev.arca.lease.released',
  gcFinished: 'dev.arca.gc.finished',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** The `source` of every event Arca emits. */
export const EVENT_SOURCE = 'arca';

export interface StoreEvent {
  readonly specversion: '1.0';
  /** Derived from the change itself (`eventId`), so a retried change yields the same id. */
  readonly id: string;
  readonly source: string;
  readonly type: EventType;
  /** `<ns>/<pkg>@<version>`, or `gc` for a GC run. */
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  /** Extension attribute: the namespace the change is in (`*` for store-wide changes like GC). */
  readonly arcanamespace: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * The event id of a change: a digest of what identifies the change (the upload id of a commit, the
 * lease id of a lease, the request of a promotion), never of when it was emitted.
 */
export const eventId = (...change: readonly string[]): string =>
  createHash('sha256').update(change.join('\u0000')).digest('hex').slice(0, 32);

export function storeEvent(input: {
  readonly type: EventType;
  readonly change: readonly string[];
  readonly namespace: string;
  readonly subject: string;
  readonly time: Date | string;
  readonly data: Readonly<Record<string, unknown>>;
}): StoreEvent {
  return {
    specversion: '1.0',
    id: eventId(input.type, ...input.change),
    source: EVENT_SOURCE,
    type: input.type,
    subject: input.subject,
    time: typeof input.time === 'string' ? input.time : input.time.toISOString(),
    datacontenttype: 'application/json',
    arcanamespace: input.namespace,
    data: input.data,
  };
}

/**
 * The largest event sent whole. EventBridge takes an entry of at most 256 KB (its detail, detail
 * type, source and time): this leaves room for all but the detail.
 */
export const MAX_EVENT_BYTES = 250_000;

/**
 * An event whose data lists a version's files, with the list when the event stays within
 * `MAX_EVENT_BYTES`. A version of 1,000 files whose names are 512 characters is ~620 KB of list,
 * which EventBridge would refuse (and the commit that emits it would fail after it was stored):
 * such an event says `filesOmitted: true` and `fileCount` instead, and the version itself
 * (GET …/versions/{version}) lists them. Every event that fitted before is sent as it was.
 */
export function eventWithFiles(
  input: Parameters<typeof storeEvent>[0],
  files: readonly { readonly name: string; readonly sha256: string; readonly size: number }[],
): StoreEvent {
  const listed = files.map((f) => ({ name: f.name, sha256: f.sha256, size: f.size }));
  const whole = storeEvent({ ...input, data: { ...input.data, files: listed } });
  if (Buffer.byteLength(JSON.stringify(whole)) <= MAX_EVENT_BYTES) return whole;
  return storeEvent({ ...input, data: { ...input.data, fileCount: files.length, filesOmitted: true } });
}

/** A version's part of every version event's data. */
export const versionData = (ref: { namespace: string; package: string; version: string }) => ({
  namespace: ref.namespace,
  package: ref.package,
  version: ref.version,
});

export const versionSubject = (ref: { namespace: string; package: string; version: string }) =>
  `${ref.namespace}/${ref.package}@${ref.version}`;

/**
 * `version.deleted`: a version and its files are gone from the index. `since` identifies this life of
 * the version (when it was deleted), as a name may be published again later.
 */
export const versionDeletedEvent = (
  ref: { namespace: string; package: string; version: string },
  reason: string,
  at: Date,
  since: string,
): StoreEvent =>
  storeEvent({
    type: EVENT_TYPES.deleted,
    change: [versionSubject(ref), since],
    namespace: ref.namespace,
    subject: versionSubject(ref),
    time: at,
    data: { ...versionData(ref), reason },
  });

/** `version.published`: the upload id identifies the commit (a retried commit is the same change). */
export const versionPublishedEvent = (version: Version, uploadId: string): StoreEvent =>
  eventWithFiles(
    {
      type: EVENT_TYPES.published,
      change: [uploadId],
      namespace: version.namespace,
      subject: versionSubject(version),
      time: version.createdAt,
      data: {
        ...versionData(version),
        uploadId,
        state: version.state,
        createdBy: version.createdBy,
        metadata: version.metadata,
      },
    },
    version.files,
  );

/** `version.promoted`: one pointer move per request, identified by the request id and the stage. */
export const versionPromotedEvent = (input: {
  readonly ref: { namespace: string; package: string; version: string };
  readonly stage: string;
  readonly previousVersion: string | null;
  readonly by: string;
  readonly requestId: string;
  readonly at: Date | string;
}): StoreEvent =>
  storeEvent({
    type: EVENT_TYPES.promoted,
    change: [input.requestId, versionSubject(input.ref), input.stage],
    namespace: input.ref.namespace,
    subject: versionSubject(input.ref),
    time: input.at,
    data: {
      ...versionData(input.ref),
      stage: input.stage,
      previousVersion: input.previousVersion,
      by: input.by,
    },
  });

/** A lease is taken and released once each: its id identifies both changes. */
export const leaseEvent = (
  type: typeof EVENT_TYPES.leaseAcquired | typeof EVENT_TYPES.leaseReleased,
  lease: {
    leaseId: string;
    namespace: string;
    package: string;
    version: string;
    holder: string;
    expiresAt: string;
  },
  at: Date | string,
): StoreEvent =>
  storeEvent({
    type,
    change: [lease.leaseId],
    namespace: lease.namespace,
    subject: versionSubject(lease),
    time: at,
    data: { ...versionData(lease), leaseId: lease.leaseId, holder: lease.holder, expiresAt: lease.expiresAt },
  });

/** Emits through the deps' port; without one, nothing (a host that wires no events). */
export async function emitEvent(deps: { readonly events?: EventPort }, event: StoreEvent): Promise<void> {
  await deps.events?.emit(event);
}
