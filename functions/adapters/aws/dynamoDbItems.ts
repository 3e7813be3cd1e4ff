import { randomBytes } from 'node:crypto';
import type {
  AuditEvent,
  BlobRecord,
  Sha256,
  StoredSession,
  UploadSession,
  VersionRecord,
} from '../../ports.ts';

/**
 * The items of the single table (docs/table-design.md): their keys, and the conversion between them
 * and the records the ports move. Records are rebuilt field by field, so key and index attributes
 * never leak into the domain.
 */
export type Item = Record<string, unknown>;

/** How long a finished session is kept for idempotent commit retries and audits, past its expiry. */
const SESSION_RETENTION_SECONDS = 30 * 86_400;

const packageKey = (namespace: string, pkg: string) => `PKG#${namespace}/${pkg}`;
export const versionSortKey = (version: string) => `VERSION#${version}`;

export const keys = {
  session: (uploadId: string) => ({ pk: `SESSION#${uploadId}`, sk: 'SESSION' }),
  version: (namespace: string, pkg: string, version: string) => ({
    pk: packageKey(namespace, pkg),
    sk: versionSortKey(version),
  }),
  /** Holds the package's commit counter, which orders its versions newest first. */
  package: (namespace: string, pkg: string) => ({ pk: packageKey(namespace, pkg), sk: 'PACKAGE' }),
  blob: (sha256: Sha256) => ({ pk: `BLOB#${sha256}`, sk: 'BLOB' }),
};

/** gsi2 work lists, read by GC. */
export const workLists = {
  openSessions: 'SESSIONS#open',
  blobs: (state: BlobRecord['state']) => `BLOBS#${state}`,
};

/** The commit counter as a fixed-width string, so gsi1's string sort is numeric order. */
export const seqKey = (seq: number): string => String(seq).padStart(15, '0');

export function sessionItem(session: UploadSession): Item {
  return {
    ...keys.session(session.uploadId),
    kind: 'session',
    uploadId: session.uploadId,
    namespace: session.namespace,
    package: session.package,
    version: session.version,
    state: session.state,
    revision: 0,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    createdBy: session.createdBy,
    metadata: session.metadata,
    files: session.files,
    ttl: Math.floor(Date.parse(session.expiresAt) / 1000) + SESSION_RETENTION_SECONDS,
    gsi2pk: workLists.openSessions,
    gsi2sk: `${session.expiresAt}#${session.uploadId}`,
  };
}

export function sessionOf(item: Item): StoredSession {
  return {
    uploadId: item.uploadId as string,
    namespace: item.namespace as string,
    package: item.package as string,
    version: item.version as string,
    state: item.state as StoredSession['state'],
    revision: item.revision as number,
    createdAt: item.createdAt as string,
    expiresAt: item.expiresAt as string,
    createdBy: item.createdBy as string,
    metadata: item.metadata as StoredSession['metadata'],
    files: item.files as StoredSession['files'],
  };
}

export function versionItem(version: VersionRecord, seq: number): Item {
  const key = keys.version(version.namespace, version.package, version.version);
  return {
    ...key,
    kind: 'version',
    namespace: version.namespace,
    package: version.package,
    version: version.version,
    state: version.state,
    createdAt: version.createdAt,
    createdBy: version.createdBy,
    uploadId: version.uploadId,
    metadata: version.metadata,
    // Files live inside the version item: ≤ 50 of them fit easily in 400 KB, a version is read whole,
    // and the commit transaction stays within 100 items.
    files: version.files,
    seq,
    gsi1pk: key.pk,
    gsi1sk: seqKey(seq),
  };
}

export function versionOf(item: Item): VersionRecord {
  return {
    namespace: item.namespace as string,
    package: item.package as string,
    version: item.version as string,
    state: item.state as VersionRecord['state'],
    createdAt: item.createdAt as string,
    createdBy: item.createdBy as string,
    uploadId: item.uploadId as string,
    metadata: item.metadata as VersionRecord['metadata'],
    files: item.files as VersionRecord['files'],
  };
}

export function blobOf(item: Item): BlobRecord {
  return {
    sha256: item.sha256 as string,
    size: item.size as number,
    state: item.state as BlobRecord['state'],
    refcount: item.refcount as number,
    ...(item.scan === undefined ? {} : { scan: item.scan as BlobRecord['scan'] }),
  };
}

/** Audit events of a namespace sort by time; the random tail keeps two events of one instant apart. */
export function auditItem(event: AuditEvent): Item {
  return {
    pk: `AUDIT#${event.namespace}`,
    sk: `${event.at}#${randomBytes(6).toString('hex')}`,
    kind: 'audit',
    ...event,
  };
}
