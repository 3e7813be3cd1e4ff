/**
 * What the domain needs from the world. `core/` depends only on these; each backend implements them
 * (`adapters/embedded`: filesystem + SQLite, `adapters/aws`: S3 + DynamoDB), and both pass the one
 * contract suite in `test/contract`.
 */

import type { StoreEvent } from './core/events.ts';
import type { CounterName, HistogramName, Labels } from './core/metrics.ts';
import type {
  AttestationRecord,
  AttestedSbom,
  AuditEvent,
  BlobRecord,
  Lease,
  NamespacePolicy,
  PackageStages,
  Promotion,
  ScanReport,
  SessionFile,
  SessionState,
  Sha256,
  TokenRecord,
  UploadSession,
  VersionDeletion,
  VersionFileRecord,
  VersionRecord,
  VulnerabilityReport,
} from './core/model.ts';
import type { DeliveryView, WebhookRecord } from './core/webhooks.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A request the client makes exactly as given: method, URL and every listed header. */
export interface SignedRequest {
  readonly method: 'PUT' | 'GET';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface SignedPart extends SignedRequest {
  readonly partNumber: number;
}

export interface MultipartUpload {
  /** Storage's id for the multipart upload. */
  readonly multipartId: string;
  readonly partSize: number;
  readonly parts: readonly SignedPart[];
}

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
}

export interface StagedObject {
  readonly size: number;
  /** Lowercase hex sha256 the storage itself verified, where it reports one. */
  readonly sha256?: Sha256;
}

/** The byte store: `staging/` for uploads, `blobs/sha256/<2>/<hex>` for verified content. */
export interface BlobStore {
  /** Files larger than this are uploaded in parts. */
  readonly multipartThreshold: number;
  /** A PUT the client sends the whole file with; storage rejects other lengths and digests. */
  signUpload(stagingKey: string, size: number, sha256: Sha256, expiresAt: Date): Promise<SignedRequest>;
  /**
   * A PUT of a pack (many small files concatenated): its length is signed, storage rejects others.
   * Its digest is not known upfront; the scan checks each file's sha256 when it splits the pack.
   */
  signPackUpload(stagingKey: string, size: number, expiresAt: Date): Promise<SignedRequest>;
  startMultipart(stagingKey: string, size: number, sha256: Sha256, expiresAt: Date): Promise<MultipartUpload>;
  /** Assembles the parts into the staged object. Idempotent once complete. */
  completeMultipart(stagingKey: string, multipartId: string, parts: readonly CompletedPart[]): Promise<void>;
  abortMultipart(stagingKey: string, multipartId: string): Promise<void>;
  /** Size (and verified checksum where storage has one) of a staged object, or null when absent. */
  statStaged(stagingKey: string): Promise<StagedObject | null>;
  /** Streams a staged object once; null when absent. */
  readStaged(stagingKey: string): Promise<AsyncIterable<Uint8Array> | null>;
  hasBlob(sha256: Sha256): Promise<boolean>;
  /**
   * Stores the staged bytes the scan just verified in content-addressed storage (a no-op when the
   * blob is there), leaving the staged object for the caller to delete once the verdict is recorded.
   * CAS must end up with exactly the bytes that were read: a copy, or a link to bytes nothing can
   * write to any more. False when the staged object is gone and the blob is not stored.
   */
  copyToBlob(stagingKey: string, sha256: Sha256): Promise<boolean>;
  /**
   * Stores bytes the scan just verified (a file it split out of a pack) in content-addressed storage
   * under their sha256, a no-op when the blob is there. Durable before it returns, and never visible
   * under the blob key partly written: the index may say `available` as soon as this resolves.
   */
  putBlob(sha256: Sha256, bytes: Uint8Array): Promise<void>;
  /** Deletes staged objects; absent keys are fine. */
  deleteStaged(stagingKeys: readonly string[]): Promise<void>;
  deleteBlobs(sha256s: readonly Sha256[]): Promise<void>;
  /** A short-lived GET of a blob, served under `fileName` with `mediaType`. */
  signDownload(sha256: Sha256, fileName: string, mediaType: string, expiresAt: Date): Promise<string>;
}

export interface VersionPage {
  readonly items: readonly VersionRecord[];
  /** Backend-specific position after the last item; core wraps it in a signed, opaque cursor. */
  readonly next?: string;
}

export interface CommitInput {
  readonly uploadId: string;
  /** The session as read before the transaction: the transaction fails with ConflictError if it changed. */
  readonly sessionRevision: number;
  readonly now: Date;
  readonly version: VersionRecord;
  /**
   * Blobs this commit relies on being stored already (deduplicated or scanned before the commit):
   * the transaction requires each to still be `available` (else ConflictError, reason `blobGone`),
   * so a blob GC is deleting can never end up referenced without bytes.
   */
  readonly availableBlobs: readonly Sha256[];
}

/** What the scan of one staged object found, applied to the index in one transaction. */
export interface ScanOutcome {
  readonly uploadId: string;
  /** Position of the file in the session. */
  readonly fileIndex: number;
  readonly sha256: Sha256;
  readonly size: number;
  /**
   * `verified`: bytes hash to the declared digest and are clean: the blob becomes available.
   * `rejected`: these bytes do not match what was declared: only this upload's file is quarantined.
   * `infected`: the content itself is bad: the blob, and every file pointing at it, is quarantined.
   */
  readonly verdict: 'verified' | 'rejected' | 'infected';
  readonly report: ScanReport;
  readonly at: Date;
}

/** A session as stored, with the revision every conditional write compares against. */
export interface StoredSession extends UploadSession {
  readonly revision: number;
}

/** A session's header with one of its files (`Index.getSessionFile`). */
export interface SessionFileView {
  readonly session: Omit<StoredSession, 'files'>;
  readonly file: SessionFile | undefined;
}

/**
 * What recording a verdict left behind: nothing (unknown file, or a verdict already there), or the
 * session's state and how many of its uploaded files still wait for a verdict. A committed session
 * with none waiting may have just turned its version `available`.
 */
export type RecordedScan =
  | { readonly recorded: false }
  | { readonly recorded: true; readonly sessionState: SessionState; readonly awaitingScan: number };

/**
 * The index. Every method that changes more than one item is ONE transaction with the conditions
 * named on it; none reads then writes without a condition.
 */
/** Attestations of versions (the store's provenance, publishers' envelopes). */
export interface AttestationIndex {
  /**
   * Stores an attestation of a version, with its audit event. False (and nothing written) when the
   * version has one with this id already: the store's provenance (`id: provenance`) is written once.
   */
  putAttestation(ref: VersionRef, attestation: AttestationRecord, audit: AuditEvent): Promise<boolean>;
  /** A version's attestations, oldest first. */
  listAttestations(ref: VersionRef): Promise<AttestationRecord[]>;
  /** Every attestation that carries an SBOM (`sbom`): what is matched again when the database changes. */
  listAttestedSboms(): Promise<{ ref: VersionRef; id: string; sbom: AttestedSbom }[]>;
  /**
   * Replaces `sbom.vulnerabilities` of one attestation, and nothing else (its envelope and the rest
   * of the record stay as they are). False when the attestation or its SBOM is gone.
   */
  setAttestationVulnerabilities(
    ref: VersionRef,
    id: string,
    vulnerabilities: VulnerabilityReport,
  ): Promise<boolean>;
}

/** A public key of the store, as `GET /v1/keys` lists it. */
export interface StoreKey {
  /** Lowercase hex sha256 of the public key's SPKI DER: anyone holding the key can derive it. */
  readonly keyId: string;
  readonly algorithm: 'ECDSA_P256_SHA256';
  readonly publicKeyPem: string;
  readonly createdAt: string;
  /** Set once another key took over signing; retired keys stay listed so old signatures verify. */
  readonly retiredAt?: string;
}

/**
 * The store's signing keys (embedded: PEM files in the data dir; AWS: KMS, the private key never
 * leaves it). Only the scan worker signs; the API lists keys and asks for rotations.
 */
export interface StoreKeys {
  /** ECDSA P-256 over SHA-256 of `data`, DER encoded, with the current key. */
  sign(data: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }>;
  /** Every key, current and retired, oldest first. */
  list(): Promise<StoreKey[]>;
  /** Makes a new current key and retires the old one; answers the new key. */
  rotate(now: Date): Promise<StoreKey>;
}

/**
 * Hands a version's signing to the scan worker, the only principal allowed to sign (AWS: a message on
 * the scan queue; embedded: an entry in the in-process scan queue). At least once; signing is idempotent.
 */
export interface ProvenanceQueue {
  request(ref: VersionRef): Promise<void>;
}

/** Arca tokens: stored by id with only their secret's hash. */
export interface AccessIndex {
  /** Stores a new token and its audit event (one transaction). */
  putToken(token: TokenRecord, audit: AuditEvent): Promise<void>;
  getToken(id: string): Promise<TokenRecord | null>;
  /** Every token, revoked and expired ones included, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Sets `revokedAt` (and writes the audit event) unless unknown or already revoked: then false. */
  revokeToken(id: string, at: string, audit: AuditEvent): Promise<boolean>;
  /** Notes a use; an unknown token is ignored. */
  touchToken(id: string, at: string): Promise<void>;
}

/**
 * Finding versions without scanning (GET /v1/search): both answer only live, committed versions, and
 * only from what the index keeps for the purpose (SQLite indexes; DynamoDB items per metadata value
 * and per blob reference, each checked against the version before it is answered).
 */
export interface SearchIndex {
  /**
   * Versions with a file whose blob is `sha256`, in `namespaces` (`'*'`: any), ordered by
   * (namespace, package, version). `after` is a `next` from an earlier page.
   */
  searchByBlob(
    sha256: Sha256,
    namespaces: '*' | readonly string[],
    limit: number,
    after?: string,
  ): Promise<VersionPage>;
  /** Versions of `namespace` whose metadata `key` is exactly `value`, newest commit first. */
  searchByMetadata(
    namespace: string,
    key: string,
    value: string,
    limit: number,
    after?: string,
  ): Promise<VersionPage>;
}

export interface Index extends LifecycleIndex, AccessIndex, AttestationIndex, SearchIndex {
  /**
   * Stores a new open session (and its audit event). Blobs the session relies on (`exists` files)
   * are held: their unreferenced-since moves to the session's expiry, so GC's grace runs from there.
   */
  createSession(session: UploadSession, audit: AuditEvent): Promise<void>;
  getSession(uploadId: string): Promise<StoredSession | null>;
  /**
   * A session without its file list, and one of its files (undefined past the end): what the scan of
   * one staged object reads, at a cost that does not grow with the number of files in the session.
   */
  getSessionFile(uploadId: string, fileIndex: number): Promise<SessionFileView | null>;
  /**
   * One transaction: version + files + blob refs (blob rows created `pending` when absent) +
   * session→committed + audit. Conditions: version absent (else VersionExistsError), session open,
   * unexpired at `now` and still at `sessionRevision` (else ConflictError / UploadExpiredError),
   * every blob not `deleting` (else ConflictError with `details.blobs`).
   */
  commitSession(input: CommitInput, audit: AuditEvent): Promise<void>;
  /** Open → aborted. NotFoundError when unknown, ConflictError when committed; aborted again is fine. */
  abortSession(uploadId: string, audit: AuditEvent): Promise<StoredSession>;
  getVersion(namespace: string, pkg: string, version: string): Promise<VersionRecord | null>;
  /**
   * Newest commit first. `after` is a `next` from an earlier page. Deleted versions (state `deleted`)
   * are left out unless `includeDeleted`.
   */
  listVersions(
    namespace: string,
    pkg: string,
    limit: number,
    after?: string,
    options?: { readonly includeDeleted?: boolean },
  ): Promise<VersionPage>;
  getBlobs(sha256s: readonly Sha256[]): Promise<Map<Sha256, BlobRecord>>;
  /**
   * The subset of `sha256s` that a committed version in one of `namespaces` (`'*'`: any namespace)
   * references: content a caller reading those namespaces can already download, and so the only
   * content an upload may take as `exists` without sending its bytes.
   */
  referencedBlobs(sha256s: readonly Sha256[], namespaces: '*' | readonly string[]): Promise<Set<Sha256>>;
  /**
   * Holds a blob before the scan worker writes its bytes into content-addressed storage: creates the
   * row (`pending`, refcount 0) when absent and moves its unreferenced-since to at least `until`, so
   * GC cannot start deleting it while the bytes land. ConflictError (retry later) when GC is
   * already deleting it.
   */
  pinBlob(sha256: Sha256, size: number, until: Date): Promise<void>;
  /**
   * Applies a scan outcome in one transaction: the session file's verdict, the blob's state and scan
   * report, and (when the session is committed) the version file's rejection, or for verified bytes
   * the end of its `unverified` mark. Idempotent. A blob
   * verified before any commit references it is held until the session's expiry, like `exists` files.
   */
  recordScan(outcome: ScanOutcome): Promise<RecordedScan>;
  /**
   * Records a scan attempt that failed (an engine could not scan: `report.status` is `error`) in one
   * transaction: on the session file and, when the session is committed, on the version file, which
   * stays `pending`. The blob, the staged bytes and every verdict are left alone; `recordScan` of
   * the retry replaces it. False (nothing written) when the file is unknown or already has a verdict.
   */
  recordScanError(uploadId: string, fileIndex: number, report: ScanReport): Promise<boolean>;
  /**
   * Blobs whose scan report keeps the components of SBOMs (`scan.components`): what is matched
   * again when the advisory database changes.
   */
  listBlobsWithComponents(): Promise<BlobRecord[]>;
  /**
   * Replaces `scan.vulnerabilities` of a blob's report, and nothing else (state, bytes, findings
   * stay as they are). False when the blob or its report is gone.
   */
  setBlobVulnerabilities(sha256: Sha256, vulnerabilities: VulnerabilityReport): Promise<boolean>;
}

export interface PromoteInput {
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
  readonly stage: string;
  readonly now: Date;
  readonly by: string;
  /** With an enforced order: the version must have been promoted to this stage before. */
  readonly requirePriorStage?: string;
  /** The stage is immutable: its pointer may be set once. */
  readonly immutable: boolean;
}

export interface StageView {
  readonly stage: string;
  readonly version: string;
  readonly promotedAt: string;
  /** Newest first. */
  readonly history: readonly Promotion[];
}

export interface VersionRef {
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly next?: string;
}

/** A version as GC's retention needs it: no file details beyond the digests. */
export interface VersionSummary extends VersionRef {
  readonly state: VersionRecord['state'];
  readonly createdAt: string;
  readonly tombstonedAt?: string;
  readonly sha256s: readonly Sha256[];
}

/**
 * Stages, leases, policies, audit and the GC's work lists. Same rules as `Index`: every multi-item
 * change is one transaction with its conditions; conditional GC steps answer whether they applied
 * instead of throwing, because losing a race to a publisher is the expected outcome, not an error.
 */
export interface LifecycleIndex {
  /**
   * One transaction: pointer + history entry + audit. Conditions: version exists (NotFoundError) and
   * is live (NotPromotableError), `requirePriorStage` promoted this version before
   * (StageOrderViolationError), an immutable pointer is unset or already names it (StageImmutableError).
   * Promoting the version a pointer already names changes nothing and answers it as previous.
   */
  promote(input: PromoteInput, audit: AuditEvent): Promise<{ previousVersion: string | null }>;
  getStage(namespace: string, pkg: string, stage: string, historyLimit: number): Promise<StageView | null>;
  /** Current pointers, and per stage the distinct versions promoted there, newest first (at most `perStage`). */
  getPackageStages(namespace: string, pkg: string, perStage: number): Promise<PackageStages>;

  /** Condition: the version exists and is live (else NotFoundError). */
  acquireLease(lease: Lease, audit: AuditEvent): Promise<void>;
  getLease(leaseId: string): Promise<Lease | null>;
  /** NotFoundError when unknown or released; ConflictError when it expired before `now`. */
  renewLease(leaseId: string, expiresAt: Date, now: Date, audit: AuditEvent): Promise<Lease>;
  /** NotFoundError when unknown or already released. */
  releaseLease(leaseId: string, audit: AuditEvent): Promise<void>;
  /** Leases of a package that have not expired at `now`. */
  activeLeases(namespace: string, pkg: string, now: Date): Promise<Lease[]>;

  getPolicy(namespace: string): Promise<NamespacePolicy | null>;
  /** Every namespace's policy (OIDC trust rules and IAM members are read from here). */
  listPolicies(): Promise<Map<string, NamespacePolicy>>;
  putPolicy(namespace: string, policy: NamespacePolicy, audit: AuditEvent): Promise<void>;
  /**
   * Writes one audit event that goes with no other change (a refused request). Events that record a
   * change are written in that change's transaction instead.
   */
  appendAudit(event: AuditEvent): Promise<void>;
  /** Oldest first, from `since` (ISO time) on; `namespace` narrows. */
  listAudit(
    filter: { namespace?: string; since?: string },
    limit: number,
    after?: string,
  ): Promise<Page<AuditEvent>>;

  /** Every namespace that has versions or a policy, sorted by name. */
  listNamespaces(): Promise<string[]>;
  /** The names of a namespace's packages that have versions, sorted; `after` is an earlier `next`. */
  listNamespacePackages(namespace: string, limit: number, after?: string): Promise<Page<string>>;
  /** Every package that has versions, in a stable order. */
  listPackages(limit: number, after?: string): Promise<Page<{ namespace: string; package: string }>>;
  /** All versions of one package, newest commit first. */
  listVersionSummaries(namespace: string, pkg: string): Promise<VersionSummary[]>;
  /**
   * Retention's candidates in one package: its `live` versions committed before `createdBefore` that
   * are not among its newest `keepLast` live versions, with their blobs, newest first. Reads what is
   * old, not the whole package. May leave out a version committed moments ago (an index that lags),
   * never one that is not a candidate.
   */
  listRetentionCandidates(
    namespace: string,
    pkg: string,
    keepLast: number,
    createdBefore: Date,
  ): Promise<VersionSummary[]>;
  /**
   * live → deleting, conditioned on: still live, no lease unexpired at `now`, not named by a stage
   * pointer. Answers false when a condition failed (the version is kept).
   */
  tombstoneVersion(ref: VersionRef, reason: string, now: Date, audit: AuditEvent): Promise<boolean>;
  /** deleting → live, conditioned on still `deleting` (NotFoundError otherwise: unknown or already deleted). */
  restoreVersion(ref: VersionRef, audit: AuditEvent): Promise<void>;
  /**
   * live or deleting → `deleted` (with `deletion`), and onto GC's tombstoned list from `deletion.at`.
   * The same conditions as a tombstone, in the same write: no lease unexpired at `now`, not named by
   * a stage pointer (promotions and leases condition on the version being live, so neither can
   * race past it). False, and nothing written, when a condition failed or the version is absent.
   */
  markVersionDeleted(
    ref: VersionRef,
    deletion: VersionDeletion,
    now: Date,
    audit: AuditEvent,
  ): Promise<boolean>;
  /**
   * Tombstoned versions whose tombstone is at or before `cutoff`, oldest tombstone first; `deleted`
   * marks those a namespace admin deleted (their files and references not yet dropped).
   */
  listTombstoned(
    cutoff: Date,
    limit: number,
  ): Promise<(VersionRef & { readonly tombstonedAt: string; readonly deleted?: boolean })[]>;
  /**
   * Deletes a version tombstoned at or before `cutoff` with its files, and decrements each blob's
   * refcount (a blob reaching 0 records `now` as unreferenced since). A `deleted` version keeps its
   * row (so its number is never reused) and loses its files and its place on the tombstoned list.
   * False when conditions failed.
   */
  deleteVersion(ref: VersionRef, cutoff: Date, now: Date, audit: AuditEvent): Promise<boolean>;

  /** Open sessions that expired before `now`. */
  listExpiredSessions(now: Date, limit: number): Promise<StoredSession[]>;
  /** open → aborted, conditioned on still open and expired at `now`. */
  expireSession(uploadId: string, now: Date, audit: AuditEvent): Promise<boolean>;
  /**
   * Removes up to `limit` finished (committed or aborted) sessions that expired before `before`;
   * answers how many. DynamoDB's item TTL removes them by itself: there it answers 0.
   */
  purgeSessions(before: Date, limit: number): Promise<number>;

  /** Blobs with refcount 0, unreferenced since at or before `cutoff`, not already deleting. */
  listDeletableBlobs(cutoff: Date, limit: number): Promise<Sha256[]>;
  /** Marks each blob `deleting` if still refcount 0 and unreferenced since ≤ `cutoff`; answers those marked. */
  markBlobsDeleting(sha256s: readonly Sha256[], cutoff: Date): Promise<Sha256[]>;
  /**
   * Blobs marked `deleting` and not yet forgotten: a GC run that stopped between the mark and the
   * forget leaves them behind, and no commit can take one back, so the next run finishes them.
   */
  listDeletingBlobs(limit: number): Promise<Sha256[]>;
  /** Removes the rows of blobs whose bytes are gone (conditioned on `deleting`, refcount 0), one audit each. */
  forgetBlobs(sha256s: readonly Sha256[], audit: (sha256: Sha256) => AuditEvent): Promise<void>;

  /**
   * Takes, or renews, the store's one GC lock for `holder` until `until`. False while another
   * holder's lock is unexpired at `now`: only one GC run (or finisher of its deletions) at a time.
   */
  acquireGcLock(holder: string, now: Date, until: Date): Promise<boolean>;
  /** Releases the lock if `holder` holds it; `null` releases whoever holds it (a start after a crash). */
  releaseGcLock(holder: string | null): Promise<void>;
  /**
   * Where GC's retention walk stopped (opaque to the index), or null: the next run starts a new pass
   * there. Kept in the index so a run never depends on its caller to resume.
   */
  getGcPosition(): Promise<string | null>;
  /** Saves the position, only while `holder` holds the GC lock; answers false when it does not. */
  saveGcPosition(holder: string, position: string | null): Promise<boolean>;
}

/**
 * Where core records its SLIs (`core/metrics.ts` lists them): prom-client behind `/metrics` on the
 * local server, EMF on Lambda. Recording never fails the use case and never waits.
 */
export interface MetricsPort {
  count(metric: CounterName, labels?: Labels, by?: number): void;
  observe(metric: HistogramName, seconds: number, labels?: Labels): void;
}

/**
 * Where state changes go as CloudEvents (`core/events.ts`): the SQLite outbox feeding webhooks
 * locally, EventBridge on AWS. `emit` is called after the change is stored, and again by any retry
 * of it: an event whose id was emitted before is dropped, so each change is delivered once.
 */
export interface EventPort {
  emit(event: StoreEvent): Promise<void>;
}

/** A namespace's webhooks and their deliveries (local server; on AWS events go to EventBridge). */
export interface WebhookStore {
  /** Replaces the namespace's webhooks, writing `audit` with them. */
  putWebhooks(namespace: string, webhooks: readonly WebhookRecord[], audit: AuditEvent): Promise<void>;
  listWebhooks(namespace: string): Promise<WebhookRecord[]>;
  /** Newest first, optionally only those in `state`. */
  listDeliveries(
    namespace: string,
    query: { readonly state?: DeliveryView['state']; readonly limit: number },
  ): Promise<DeliveryView[]>;
}

/** Re-exported so adapters import their types from one place. */
export type {
  AttestationRecord,
  AuditEvent,
  BlobRecord,
  Lease,
  NamespacePolicy,
  PackageStages,
  Promotion,
  Sha256,
  TokenRecord,
  UploadSession,
  VersionDeletion,
  VersionFileRecord,
  VersionRecord,
};
