import type { CompletedPart, SignedPart, SignedRequest, StagedObject, StoredSession } from '../ports.ts';
import { authorize, readableNamespaces } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import {
  ConflictError,
  DigestMismatchError,
  NotFoundError,
  SizeMismatchError,
  TooLargeError,
  UploadExpiredError,
  UploadIncompleteError,
  VersionExistsError,
} from './errors.ts';
import { emitEvent, versionPublishedEvent } from './events.ts';
import { finishInterruptedDeletions } from './gc.ts';
import { newId } from './ids.ts';
import { measured } from './metrics.ts';
import type {
  AuditEvent,
  BlobRecord,
  Principal,
  Publisher,
  SessionFile,
  UploadSession,
  Version,
  VersionFileRecord,
  VersionRecord,
} from './model.ts';
import { discardStaged, packKeyOf, stagingKeyOf } from './stagingKeys.ts';
import { describeVersions } from './versions.ts';

export interface DeclaredFile {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly mediaType: string;
}

export interface CreateUploadInput {
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
  readonly files: readonly DeclaredFile[];
  readonly metadata: Readonly<Record<string, string>>;
  /** The client can send small files in one pack (`CreatedUpload.pack`); old clients leave it out. */
  readonly pack?: boolean;
}

export interface UploadInstruction {
  readonly name: string;
  readonly sha256: string;
  /** `packed`: the file's bytes go in the pack, at its place in `CreatedUpload.pack.files`. */
  readonly action: 'upload' | 'exists' | 'packed';
  readonly upload?: SignedRequest;
  readonly multipart?: { readonly partSize: number; readonly parts: readonly SignedPart[] };
}

export interface CreatedUpload {
  readonly uploadId: string;
  readonly expiresAt: string;
  readonly files: readonly UploadInstruction[];
  /** The version is committed already with exactly these files and metadata: nothing to send. */
  readonly existing?: true;
  /** One PUT of the `packed` files' bytes, concatenated in the order of `files` (file indices). */
  readonly pack?: SignedRequest & { readonly size: number; readonly files: readonly number[] };
}

/** Packed bytes per session at most: one PUT a client retries whole, one object the scan reads once. */
export const MAX_PACK_SIZE = 64 * 1024 * 1024;

function auditOf(caller: Caller, action: string, session: UploadSession, now: Date): AuditEvent {
  return {
    at: now.toISOString(),
    actor: caller.principal.id,
    action,
    namespace: session.namespace,
    target: `${session.namespace}/${session.package}@${session.version}`,
    requestId: caller.requestId,
    details: {
      uploadId: session.uploadId,
      ...(caller.principal.claims ? { claims: caller.principal.claims } : {}),
    },
  };
}

/** The committing principal as the version keeps it: who, how authenticated, and its CI claims. */
function publisherOf(principal: Principal): Publisher {
  return {
    id: principal.id,
    kind: principal.kind,
    ...(principal.claims ? { claims: principal.claims } : {}),
  };
}

/**
 * Opens an upload session: refuses a version that exists, answers `exists` for content already
 * stored, verified and readable by the caller (no bytes move), and signs an upload (single PUT or
 * parts) for the rest. Content the caller cannot read is never `exists`, however it is stored: the
 * answer would hand it over, and tell whether a digest is stored anywhere. The client uploads it,
 * and the scan deduplicates.
 */
export async function createUpload(
  deps: CoreDeps,
  caller: Caller,
  input: CreateUploadInput,
): Promise<CreatedUpload> {
  authorize(caller.principal, input.namespace, 'write');
  for (const f of input.files) {
    if (f.size > deps.config.maxFileSize) {
      throw new TooLargeError(
        `file ${f.name} is ${f.size} bytes; the maximum is ${deps.config.maxFileSize}`,
        {
          details: { file: f.name, maxFileSize: deps.config.maxFileSize },
        },
      );
    }
  }
  const [existing, blobs] = await Promise.all([
    deps.index.getVersion(input.namespace, input.package, input.version),
    deps.index.getBlobs(input.files.map((f) => f.sha256)),
  ]);
  if (existing) return republish(deps, caller, input, existing);
  // Who may read them is asked only of content that is stored: new content costs no second read.
  const stored = input.files.map((f) => f.sha256).filter((sha) => blobs.get(sha)?.state === 'available');
  const readable =
    stored.length > 0
      ? await deps.index.referencedBlobs(stored, readableNamespaces(caller.principal))
      : new Set<string>();

  const now = deps.clock.now();
  const uploadId = newId(now);
  const expiresAt = new Date(now.getTime() + deps.config.sessionTtlSeconds * 1000);
  const instructions: UploadInstruction[] = [];
  const files: SessionFile[] = [];
  const packed: number[] = [];
  let packSize = 0;
  for (const [n, f] of input.files.entries()) {
    const blob = blobs.get(f.sha256);
    if (blob?.state === 'available' && readable.has(f.sha256)) {
      requireStoredSize(f, blob);
      files.push({ ...f, action: 'exists' });
      instructions.push({ name: f.name, sha256: f.sha256, action: 'exists' });
      continue;
    }
    const stagingKey = stagingKeyOf(uploadId, n);
    if (input.pack && fitsPack(deps, f.size, packSize)) {
      packed.push(n);
      packSize += f.size;
      files.push({ ...f, action: 'upload', stagingKey, packed: true });
      instructions.push({ name: f.name, sha256: f.sha256, action: 'packed' });
    } else if (f.size > deps.blobs.multipartThreshold) {
      const mp = await deps.blobs.startMultipart(stagingKey, f.size, f.sha256, expiresAt);
      files.push({ ...f, action: 'upload', stagingKey, multipartId: mp.multipartId, partSize: mp.partSize });
      instructions.push({
        name: f.name,
        sha256: f.sha256,
        action: 'upload',
        multipart: { partSize: mp.partSize, parts: mp.parts },
      });
    } else {
      const upload = await deps.blobs.signUpload(stagingKey, f.size, f.sha256, expiresAt);
      files.push({ ...f, action: 'upload', stagingKey });
      instructions.push({ name: f.name, sha256: f.sha256, action: 'upload', upload });
    }
  }
  const session: UploadSession = {
    uploadId,
    namespace: input.namespace,
    package: input.package,
    version: input.version,
    state: 'open',
    createdAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    createdBy: caller.principal.id,
    metadata: input.metadata,
    files,
  };
  const pack =
    packed.length > 0
      ? {
          ...(await deps.blobs.signPackUpload(packKeyOf(uploadId), packSize, expiresAt)),
          size: packSize,
          files: packed,
        }
      : undefined;
  await deps.index.createSession(session, auditOf(caller, 'upload.create', session, now));
  return { uploadId, expiresAt: session.expiresAt, files: instructions, ...(pack ? { pack } : {}) };
}

/** A file small enough for the pack (and for a single PUT), while the pack stays within its bound. */
function fitsPack(deps: CoreDeps, size: number, packSize: number): boolean {
  const small =
    deps.config.packMaxFileSize > 0 &&
    size <= deps.config.packMaxFileSize &&
    size <= deps.blobs.multipartThreshold;
  return small && packSize + size <= MAX_PACK_SIZE;
}

/** How a re-publish differs from the committed version; empty when identical. */
export function differencesOf(input: CreateUploadInput, existing: VersionRecord): Record<string, unknown>[] {
  const differences: Record<string, unknown>[] = [];
  const committed = new Map(existing.files.map((f) => [f.name, f]));
  const declared = new Map(input.files.map((f) => [f.name, f]));
  for (const f of input.files) {
    const was = committed.get(f.name);
    if (!was) {
      differences.push({ field: 'files', file: f.name, change: 'added' });
      continue;
    }
    for (const key of ['size', 'sha256', 'mediaType'] as const) {
      if (was[key] !== f[key])
        differences.push({ field: `files.${key}`, file: f.name, declared: f[key], committed: was[key] });
    }
  }
  for (const name of committed.keys()) {
    if (!declared.has(name)) differences.push({ field: 'files', file: name, change: 'missing' });
  }
  const keys = new Set([...Object.keys(existing.metadata), ...Object.keys(input.metadata)]);
  for (const key of [...keys].sort()) {
    if (existing.metadata[key] !== input.metadata[key]) {
      differences.push({
        field: 'metadata',
        key,
        declared: input.metadata[key] ?? null,
        committed: existing.metadata[key] ?? null,
      });
    }
  }
  return differences;
}

/**
 * A CI re-run publishing the same version again: identical files and metadata answer the committed
 * version's upload (every file `exists`, its commit answers the version unchanged) and one
 * `publish.noop` audit event; anything different is VersionExistsError naming the differences.
 */
async function republish(
  deps: CoreDeps,
  caller: Caller,
  input: CreateUploadInput,
  existing: VersionRecord,
): Promise<CreatedUpload> {
  if (existing.state === 'deleted') {
    throw new VersionExistsError(
      `version ${input.namespace}/${input.package}@${input.version} was deleted; a version number is never reused`,
      { details: { state: 'deleted' } },
    );
  }
  const differences = differencesOf(input, existing);
  if (differences.length > 0) {
    throw new VersionExistsError(
      `version ${input.namespace}/${input.package}@${input.version} already exists with other content`,
      { details: { differences } },
    );
  }
  const now = deps.clock.now();
  await deps.index.appendAudit({
    at: now.toISOString(),
    actor: caller.principal.id,
    action: 'publish.noop',
    namespace: input.namespace,
    target: `${input.namespace}/${input.package}@${input.version}`,
    requestId: caller.requestId,
    details: { uploadId: existing.uploadId },
  });
  return {
    uploadId: existing.uploadId,
    expiresAt: now.toISOString(),
    existing: true,
    files: input.files.map((f) => ({ name: f.name, sha256: f.sha256, action: 'exists' as const })),
  };
}

/** SizeMismatchError unless a file declared as `exists` has the stored blob's size. */
function requireStoredSize(f: { name: string; size: number }, blob: BlobRecord): void {
  if (blob.size !== f.size) {
    throw new SizeMismatchError(`${f.name}: declared ${f.size} bytes, the stored content is ${blob.size}`, {
      details: { file: f.name, declared: f.size, stored: blob.size },
    });
  }
}

export interface CommitUploadInput {
  readonly uploadId: string;
  /** Part ETags of multipart files, by file name. */
  readonly parts?: ReadonlyMap<string, readonly CompletedPart[]>;
}

async function readSession(deps: CoreDeps, uploadId: string): Promise<StoredSession> {
  const session = await deps.index.getSession(uploadId);
  if (!session || session.state === 'aborted') throw new NotFoundError(`upload ${uploadId} not found`);
  return session;
}

async function committedVersion(deps: CoreDeps, session: UploadSession): Promise<Version> {
  const record = await deps.index.getVersion(session.namespace, session.package, session.version);
  if (!record || record.uploadId !== session.uploadId) {
    throw new NotFoundError(`the version committed by upload ${session.uploadId} no longer exists`);
  }
  const [version] = await describeVersions(deps, [record]);
  return version!;
}

/**
 * Commits a session: checks every staged object is there with its declared size (and digest, where
 * storage verified one), then one index transaction creates the version. Idempotent: committing a
 * committed session answers its version. A scan landing mid-commit changes the session's revision;
 * the commit then re-reads and tries again.
 */
export function commitUpload(deps: CoreDeps, caller: Caller, input: CommitUploadInput): Promise<Version> {
  return measured(deps.metrics, 'publishes', () => commitOnce(deps, caller, input));
}

/**
 * `version.published`, emitted by the commit and again by every retry of it (a retry finds the session
 * committed): the upload id makes it one event, and a commit whose emit was lost is emitted by its retry.
 */
async function published(deps: CoreDeps, version: Version, uploadId: string): Promise<Version> {
  await emitEvent(deps, versionPublishedEvent(version, uploadId));
  return version;
}

async function commitOnce(deps: CoreDeps, caller: Caller, input: CommitUploadInput): Promise<Version> {
  for (let attempt = 0; ; attempt++) {
    const session = await readSession(deps, input.uploadId);
    authorize(caller.principal, session.namespace, 'write');
    if (session.state === 'committed') {
      const version = await committedVersion(deps, session);
      return requestProvenance(deps, await published(deps, version, session.uploadId));
    }
    const now = deps.clock.now();
    if (now.getTime() >= Date.parse(session.expiresAt)) {
      throw new UploadExpiredError(`upload ${session.uploadId} expired at ${session.expiresAt}`);
    }
    let committed: Awaited<ReturnType<typeof commitChecked>>;
    try {
      committed = await commitChecked(deps, caller, session, input.parts, now);
    } catch (error) {
      const changed = error instanceof ConflictError && error.details?.reason === 'sessionChanged';
      // A session changes under a commit when a scan records a verdict (once per file at most) or
      // another attempt commits it: with many files still being scanned, give each a turn.
      if (attempt >= (changed ? 5 + session.files.length : 5) || !(error instanceof ConflictError))
        throw error;
      if (changed) continue;
      // Content a killed GC run left half deleted: finish that deletion, then this upload stores it anew.
      const deleting = error.details?.reason === 'blobDeleting' ? (error.details.blobs as string[]) : [];
      if (deleting.length > 0 && (await finishInterruptedDeletions(deps, deleting, caller.requestId)))
        continue;
      throw error;
    }
    // Described from the blobs the commit read: a scan finishing since shows on the next read.
    const [described] = await describeVersions(deps, [committed.version], {
      fresh: true,
      blobs: committed.blobs,
    });
    return requestProvenance(deps, await published(deps, described!, session.uploadId));
  }
}

/**
 * A version `available` at commit (every file stored before, or scanned before the commit) gets its
 * provenance from the scan worker, the only one allowed to sign: a retried commit asks again, in case
 * the first request was lost. Versions still pending are signed by the scan of their last file.
 */
async function requestProvenance(deps: CoreDeps, version: Version): Promise<Version> {
  if (version.state === 'available') await deps.provenanceQueue.request(version);
  return version;
}

/** The commit of one session revision: check the staged bytes, then the one index transaction. */
async function commitChecked(
  deps: CoreDeps,
  caller: Caller,
  session: StoredSession,
  parts: CommitUploadInput['parts'],
  now: Date,
): Promise<{ version: VersionRecord; blobs: ReadonlyMap<string, BlobRecord> }> {
  const { files, availableBlobs, blobs } = await checkStagedFiles(deps, session, parts);
  const version = {
    namespace: session.namespace,
    package: session.package,
    version: session.version,
    state: 'live' as const,
    createdAt: now.toISOString(),
    createdBy: caller.principal.id,
    publisher: publisherOf(caller.principal),
    uploadId: session.uploadId,
    metadata: session.metadata,
    files,
  };
  await deps.index.commitSession(
    { uploadId: session.uploadId, sessionRevision: session.revision, now, version, availableBlobs },
    auditOf(caller, 'upload.commit', session, now),
  );
  return { version, blobs };
}

async function checkStagedFiles(
  deps: CoreDeps,
  session: StoredSession,
  parts: CommitUploadInput['parts'],
): Promise<{ files: VersionFileRecord[]; availableBlobs: string[]; blobs: ReadonlyMap<string, BlobRecord> }> {
  const blobs = await deps.index.getBlobs(session.files.map((f) => f.sha256));
  const availableBlobs = new Set<string>();
  const packSize = session.files.reduce((sum, f) => sum + (f.packed ? f.size : 0), 0);
  let pack: Promise<StagedObject | null> | undefined;
  const packStaged = () => {
    pack ??= deps.blobs.statStaged(packKeyOf(session.uploadId));
    return pack;
  };
  const files = await Promise.all(
    session.files.map(async (f): Promise<VersionFileRecord> => {
      const record = { name: f.name, sha256: f.sha256, size: f.size, mediaType: f.mediaType };
      const blob = blobs.get(f.sha256);
      if (f.action === 'exists' || f.verdict === 'verified') {
        // Content stored before (deduplicated), or this upload's bytes the scan verified and stored.
        if (blob?.state === 'quarantined') return record;
        if (blob?.state !== 'available') {
          // GC has taken it since: the bytes must be sent again.
          throw new ConflictError(`blob ${f.sha256} of ${f.name} is no longer stored; start a new upload`, {
            details: { file: f.name, reason: 'blobGone' },
          });
        }
        requireStoredSize(f, blob);
        availableBlobs.add(f.sha256); // the transaction re-checks it: GC may be deleting it right now
        return record;
      }
      if (f.verdict === 'rejected') return { ...record, stagingKey: f.stagingKey, rejection: f.rejection };
      // Not scanned yet: this upload's own bytes must be staged, whatever else the store holds under
      // the same digest, and the file stays pending until their scan (`unverified`).
      const { stagingKey } = f;
      if (stagingKey === undefined) throw new Error(`upload file ${f.name} has no staging key`);
      if (f.packed) {
        // The pack PUT's length is signed: the pack staged whole holds this file; the scan checks it.
        await requireStaged(deps, session, f, await packStaged(), packSize);
      } else {
        if (f.multipartId) {
          try {
            await completeParts(deps, f, parts?.get(f.name));
          } catch (error) {
            // An earlier attempt assembled the parts and the scan has since verified and moved them
            // (recording its verdict first): retry on the session that carries the verdict.
            if (error instanceof UploadIncompleteError) await refuseIfSessionChanged(deps, session);
            throw error;
          }
        }
        const staged = await deps.blobs.statStaged(stagingKey);
        await requireStaged(deps, session, f, staged, f.size);
        if (staged?.sha256 !== undefined && staged.sha256 !== f.sha256) {
          throw new DigestMismatchError(
            `${f.name}: uploaded bytes hash to ${staged.sha256}, declared ${f.sha256}`,
            {
              details: { file: f.name },
            },
          );
        }
      }
      // A scan that has failed so far (an engine unreachable) shows on the version until it succeeds.
      return { ...record, stagingKey, unverified: true, ...(f.scanError ? { scanError: f.scanError } : {}) };
    }),
  );
  return { files, availableBlobs: [...availableBlobs], blobs };
}

/**
 * UploadIncompleteError when the bytes of `f` (its own staged object, or its session's pack) are not
 * staged, SizeMismatchError when they are not `size` bytes. The scan deletes staged bytes only after
 * recording its verdict: if the session changed since this commit read it, the commit retries on the
 * session that carries the verdict instead.
 */
async function requireStaged(
  deps: CoreDeps,
  session: StoredSession,
  f: SessionFile,
  staged: StagedObject | null,
  size: number,
): Promise<void> {
  const what = f.packed ? `the pack holding ${f.name}` : f.name;
  if (!staged) {
    await refuseIfSessionChanged(deps, session);
    throw new UploadIncompleteError(`no bytes were uploaded for ${what}`, {
      details: { file: f.name, ...(f.packed ? { pack: true } : {}) },
    });
  }
  if (staged.size !== size) {
    throw new SizeMismatchError(`${what}: uploaded ${staged.size} bytes, declared ${size}`, {
      details: { file: f.name, declared: size, uploaded: staged.size },
    });
  }
}

async function refuseIfSessionChanged(deps: CoreDeps, session: StoredSession): Promise<void> {
  const current = await deps.index.getSession(session.uploadId);
  if (current && current.revision !== session.revision) {
    throw new ConflictError(`upload ${session.uploadId} changed during the commit`, {
      details: { reason: 'sessionChanged' },
    });
  }
}

/** Assembles a multipart file; completing one an earlier commit attempt completed is a no-op. */
async function completeParts(deps: CoreDeps, f: SessionFile, parts: readonly CompletedPart[] | undefined) {
  if (parts && parts.length > 0) return deps.blobs.completeMultipart(f.stagingKey!, f.multipartId!, parts);
  if (await deps.blobs.statStaged(f.stagingKey!)) return; // a retry that no longer lists the parts
  throw new UploadIncompleteError(`${f.name} was uploaded in parts: the commit must list their ETags`, {
    details: { file: f.name },
  });
}

/** Aborts an open session and drops its staged bytes. Aborting twice is fine; a committed one is 409. */
export async function abortUpload(deps: CoreDeps, caller: Caller, uploadId: string): Promise<void> {
  const session = await deps.index.getSession(uploadId);
  if (!session) throw new NotFoundError(`upload ${uploadId} not found`);
  authorize(caller.principal, session.namespace, 'write');
  if (session.state === 'committed') throw new ConflictError(`upload ${uploadId} is already committed`);
  const now = deps.clock.now();
  await deps.index.abortSession(uploadId, auditOf(caller, 'upload.abort', session, now));
  await discardStaged(deps.blobs, session);
}
