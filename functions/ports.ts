/**
 * What the domain needs from the world. `core/` depends only on these; each backend implements them
 * (`adapters/embedded`: filesystem + SQLite, `adapters/aws`: S3 + DynamoDB), and both pass the one
 * contract suite in `test/contract`.
 */
import type {
  AuditEvent,
  BlobRecord,
  ScanReport,
  Sha256,
  UploadSession,
  VersionFileRecord,
  VersionRecord,
} from './core/model.ts';

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
  startMultipart(stagingKey: string, size: number, sha256: Sha256, expiresAt: Date): Promise<MultipartUpload>;
  /** Assembles the parts into the staged object. Idempotent once complete. */
  completeMultipart(stagingKey: string, multipartId: string, parts: readonly CompletedPart[]): Promise<void>;
  abortMultipart(stagingKey: string, multipartId: string): Promise<void>;
  /** Size (and verified checksum where storage has one) of a staged object, or null when absent. */
  statStaged(stagingKey: string): Promise<StagedObject | null>;
  /** Streams a staged object once; null when absent. */
  readStaged(stagingKey: string): Promise<AsyncIterable<Uint8Array> | null>;
  hasBlob(sha256: Sha256): Promise<boolean>;
  /** Moves verified staged bytes to content-addressed storage (a no-op when the blob is there). */
  moveToBlob(stagingKey: string, sha256: Sha256): Promise<void>;
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

/**
 * The index. Every method that changes more than one item is ONE transaction with the conditions
 * named on it; none reads then writes without a condition.
 */
export interface Index {
  /** Stores a new open session (and its audit event). */
  createSession(session: UploadSession, audit: AuditEvent): Promise<void>;
  getSession(uploadId: string): Promise<StoredSession | null>;
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
  /** Newest commit first. `after` is a `next` from an earlier page. */
  listVersions(namespace: string, pkg: string, limit: number, after?: string): Promise<VersionPage>;
  getBlobs(sha256s: readonly Sha256[]): Promise<Map<Sha256, BlobRecord>>;
  /**
   * Applies a scan outcome in one transaction: the session file's verdict, the blob's state and scan
   * report, and (when the session is committed) the version file's rejection. Idempotent.
   */
  recordScan(outcome: ScanOutcome): Promise<void>;
}

/** Re-exported so adapters import their types from one place. */
export type { AuditEvent, BlobRecord, Sha256, UploadSession, VersionFileRecord, VersionRecord };
