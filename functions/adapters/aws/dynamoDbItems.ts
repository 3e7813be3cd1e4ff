import { randomBytes, randomInt } from 'node:crypto';
import { SESSION_RETENTION_SECONDS } from '../../core/deps.ts';
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

export const packageKey = (namespace: string, pkg: string) => `PKG#${namespace}/${pkg}`;
export const versionSortKey = (version: string) => `VERSION#${version}`;

export const keys = {
  session: (uploadId: string) => ({ pk: `SESSION#${uploadId}`, sk: 'SESSION' }),
  version: (namespace: string, pkg: string, version: string) => ({
    pk: packageKey(namespace, pkg),
    sk: versionSortKey(version),
  }),
  /** Puts the package on the `PACKAGES` work list (GC's retention walks it); never removed. */
  listed: (namespace: string, pkg: string) => ({ pk: packageKey(namespace, pkg), sk: 'LISTED' }),
  blob: (sha256: Sha256) => ({ pk: `BLOB#${sha256}`, sk: 'BLOB' }),
  stage: (namespace: string, pkg: string, stage: string) => ({
    pk: packageKey(namespace, pkg),
    sk: `STAGE#${stage}`,
  }),
  promotion: (namespace: string, pkg: string, stage: string, seq: number) => ({
    pk: packageKey(namespace, pkg),
    sk: `${promotionPrefix(stage)}${seqKey(seq)}`,
  }),
  /** "This version was promoted to this stage": what an enforced stage order checks in a transaction. */
  promoted: (namespace: string, pkg: string, version: string, stage: string) => ({
    pk: packageKey(namespace, pkg),
    sk: `PROMOTED#${version}#${stage}`,
  }),
  lease: (leaseId: string) => ({ pk: `LEASE#${leaseId}`, sk: 'LEASE' }),
  policy: (namespace: string) => ({ pk: `POLICY#${namespace}`, sk: 'POLICY' }),
  gcLock: () => ({ pk: 'LOCK#gc', sk: 'LOCK' }),
  gcPosition: () => ({ pk: 'GC#position', sk: 'GC' }),
  token: (id: string) => ({ pk: `TOKEN#${id}`, sk: 'TOKEN' }),
  attestation: (ref: { namespace: string; package: string; version: string }, id: string) => ({
    pk: packageKey(ref.namespace, ref.package),
    sk: `${attestationPrefix(ref.version)}${id}`,
  }),
};

/** History items of one stage sort by promotion number under this prefix. */
/**
 * The blob item's per-namespace reference counter: how many committed version files of that
 * namespace point at the blob (`referencedBlobs`). Namespace names may hold `.`, `-` and `_`; the
 * attribute name keeps to word characters (expression names are `#\w+`), escaping those three.
 */
export const NAMESPACE_REF_PREFIX = 'nsref_';
export const namespaceRefAttribute = (namespace: string): string =>
  NAMESPACE_REF_PREFIX + namespace.replace(/[._-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
const namespaceOfRefAttribute = (attribute: string): string =>
  attribute
    .slice(NAMESPACE_REF_PREFIX.length)
    .replace(/_([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/** The namespaces a blob item counts live references from. */
export function referencingNamespaces(item: Item): string[] {
  return Object.entries(item)
    .filter(
      ([name, count]) => name.startsWith(NAMESPACE_REF_PREFIX) && typeof count === 'number' && count > 0,
    )
    .map(([name]) => namespaceOfRefAttribute(name));
}

/** A version's attestations sort under this prefix of its package partition. */
export const attestationPrefix = (version: string) => `ATTEST#${version}#`;

export const promotionPrefix = (stage: string) => `PROMOTION#${stage}#`;

/** Blobs on the unreferenced list spread over 16 gsi2 partitions by their first hex digit. */
export const BLOB_SHARDS = [...'0123456789abcdef'];

/**
 * Lists every publish of a namespace (or of the store) would otherwise write under one key spread
 * over the same 16 shards: open sessions by the last (random) character of their ULID, a namespace's
 * audit events at random. Each shard is its own partition, so no key takes every publish's writes.
 */
export const SHARDS = BLOB_SHARDS;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const sessionShard = (uploadId: string): string =>
  SHARDS[CROCKFORD.indexOf(uploadId.at(-1) ?? '0') % SHARDS.length] ?? '0';
const randomShard = (): string => SHARDS[randomInt(SHARDS.length)] ?? '0';

/** A namespace's audit partitions; the unsharded key is where events written before sharding stay. */
export const auditPartitions = (namespace: string): string[] => [
  `AUDIT#${namespace}`,
  ...SHARDS.map((shard) => `AUDIT#${namespace}#${shard}`),
];

/**
 * gsi2 work lists, read by GC. Sort keys start with an ISO time, so "at or before T" is
 * `gsi2sk < T + '$'` ('$' sorts right after the '#' that ends the time).
 */
export const workLists = {
  openSessions: (uploadId: string) => `SESSIONS#open#${sessionShard(uploadId)}`,
  /** Every shard of the open-session list, and the unsharded list sessions opened before sharding sit on. */
  openSessionShards: ['SESSIONS#open', ...SHARDS.map((shard) => `SESSIONS#open#${shard}`)],
  unreferencedBlobs: (sha256: Sha256) => `BLOBS#unreferenced#${sha256[0]}`,
  /** Blobs marked `deleting`, sorted by digest: found again if the run that marked them stopped. */
  deletingBlobs: (sha256: Sha256) => `BLOBS#deleting#${sha256[0]}`,
  tombstoned: 'VERSIONS#deleting',
  packages: 'PACKAGES',
  /** Every Arca token, by creation time. */
  tokens: 'TOKENS',
  /** Every namespace policy, by namespace (trust rules and IAM members are read from all of them). */
  policies: 'POLICIES',
};

/** The gsi2sk bound of "at or before `time`" on a list whose sort keys are `<ISO time>#…`. */
export const atOrBefore = (time: Date): string => `${time.toISOString()}$`;

/** gsi1 list of a package's leases, by expiry. */
export const leaseList = (namespace: string, pkg: string) => `LEASES#${namespace}/${pkg}`;

/** A promotion number as a fixed-width string, so a string sort is numeric order. */
export const seqKey = (seq: number): string => String(seq).padStart(15, '0');

/** Distinguishes this process's keys from another's written in the same instant. */
const processTag = randomBytes(4).toString('hex');
let written = 0;

/**
 * A sort key that orders by time: `<ISO time>#<per-process counter><process tag>`. Within one instant
 * the counter keeps this process's writes in the order it made them (a test clock that stands still
 * included), and the tag keeps two processes' keys apart. Versions (gsi1, newest commit first) and
 * audit events use it; no shared counter item is needed, so commits to one package never contend.
 */
export function timeOrderedKey(at: string): string {
  written = (written + 1) % 1e12;
  return `${at}#${String(written).padStart(12, '0')}${processTag}`;
}

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
    gsi2pk: workLists.openSessions(session.uploadId),
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

export function versionItem(version: VersionRecord): Item {
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
    ...(version.publisher === undefined ? {} : { publisher: version.publisher }),
    // The files inside the version item; a version of more than 64 files moves them to file items
    // of their own (`versionItems`, dynamoDbVersionFiles.ts), as 1,000 long names exceed 400 KB.
    files: version.files,
    gsi1pk: key.pk,
    gsi1sk: timeOrderedKey(version.createdAt),
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
    ...(item.tombstonedAt === undefined ? {} : { tombstonedAt: item.tombstonedAt as string }),
    ...(item.tombstoneReason === undefined ? {} : { tombstoneReason: item.tombstoneReason as string }),
    ...(item.publisher === undefined ? {} : { publisher: item.publisher as VersionRecord['publisher'] }),
    ...(item.deletion === undefined ? {} : { deletion: item.deletion as VersionRecord['deletion'] }),
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

/**
 * Audit events of a namespace sort by time within each of its shards, in write order within an
 * instant (`timeOrderedKey`); a read merges the shards.
 */
export function auditItem(event: AuditEvent): Item {
  return {
    pk: `AUDIT#${event.namespace}#${randomShard()}`,
    sk: timeOrderedKey(event.at),
    kind: 'audit',
    ...event,
  };
}

export function auditOf(item: Item): AuditEvent {
  return {
    at: item.at as string,
    actor: item.actor as string,
    action: item.action as string,
    namespace: item.namespace as string,
    target: item.target as string,
    requestId: item.requestId as string,
    ...(item.details === undefined ? {} : { details: item.details as AuditEvent['details'] }),
  };
}
