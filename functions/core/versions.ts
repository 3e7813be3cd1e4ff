import { authorize } from './auth.ts';
import { boundedPage } from './boundedPage.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { NotFoundError } from './errors.ts';
import type {
  BlobRecord,
  FileState,
  ScanReport,
  Sha256,
  Version,
  VersionFile,
  VersionFileRecord,
  VersionRecord,
  VersionState,
} from './model.ts';
import { policyFor } from './policies.ts';
import { NO_PROTECTION, type PackageProtection, protectionOf } from './protection.ts';

export interface PackageRef {
  readonly namespace: string;
  readonly package: string;
}

export interface VersionRef extends PackageRef {
  readonly version: string;
}

function describeFile(file: VersionFileRecord, blob: BlobRecord | undefined): VersionFile {
  const base = { name: file.name, sha256: file.sha256, size: file.size, mediaType: file.mediaType };
  if (file.rejection) {
    return { ...base, state: 'quarantined', scan: scanOf(file.rejection) };
  }
  const state: FileState =
    blob?.state === 'quarantined'
      ? 'quarantined'
      : blob?.state === 'available' && !file.unverified
        ? 'available'
        : 'pending';
  // A pending file whose scan keeps failing says so (status `error`, the engine and why): never clean.
  const scan =
    blob?.scan && state !== 'pending'
      ? scanOf(blob.scan)
      : file.scanError
        ? scanOf(file.scanError)
        : { status: 'pending' as const, findings: [] };
  return { ...base, state, scan };
}

const scanOf = (r: ScanReport): VersionFile['scan'] => ({
  status: r.status,
  findings: r.findings,
  ...(r.contents ? { contents: r.contents } : {}),
  ...(r.engines ? { engines: r.engines } : {}),
  ...(r.scannedAt ? { scannedAt: r.scannedAt } : {}),
  ...(r.vulnerabilities ? { vulnerabilities: r.vulnerabilities } : {}),
  ...(r.error ? { error: r.error } : {}),
});

/**
 * The API's view of a version. Its state is derived, never stored: quarantined if any file is,
 * pending while any blob awaits its scan, available when every blob is verified.
 */
export function describeVersion(
  record: VersionRecord,
  blobs: ReadonlyMap<Sha256, BlobRecord>,
  protection: PackageProtection = NO_PROTECTION,
): Version {
  const files = record.files.map((f) => describeFile(f, blobs.get(f.sha256)));
  let state: VersionState = 'available';
  if (record.state === 'deleted') state = 'deleted';
  else if (record.state === 'deleting') state = 'deleting';
  else if (files.some((f) => f.state === 'quarantined')) state = 'quarantined';
  else if (files.some((f) => f.state === 'pending')) state = 'pending';
  const held = protectionOf(protection, record.version);
  return {
    namespace: record.namespace,
    package: record.package,
    version: record.version,
    state,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    ...(record.publisher ? { publisher: record.publisher } : {}),
    metadata: record.metadata,
    stages: held.stages,
    // Nothing protects a deleted version any more: a past promotion no longer makes it a rollback target.
    protected: state !== 'deleted' && held.reasons.length > 0,
    leases: held.leases.map((l) => ({ leaseId: l.leaseId, holder: l.holder, expiresAt: l.expiresAt })),
    files,
    ...(record.deletion
      ? {
          deletedAt: record.deletion.at,
          deletedBy: record.deletion.by,
          reason: record.deletion.reason,
        }
      : {}),
  };
}

/** Stages, active leases and policy of one package: what decides whether its versions are protected. */
export async function loadProtection(
  deps: CoreDeps,
  namespace: string,
  pkg: string,
): Promise<PackageProtection> {
  const policy = await policyFor(deps, namespace);
  const [stages, leases] = await Promise.all([
    deps.index.getPackageStages(namespace, pkg, policy.retention.keepPromotedPerStage),
    deps.index.activeLeases(namespace, pkg, deps.clock.now()),
  ]);
  return { stages, leases, policy };
}

/**
 * Describes versions of ONE package, reading their blobs in one call (or using `blobs`, read by the
 * caller). `fresh` skips the stage and lease reads for versions just committed, which can have neither.
 */
export async function describeVersions(
  deps: CoreDeps,
  records: readonly VersionRecord[],
  options: { fresh?: boolean; blobs?: ReadonlyMap<Sha256, BlobRecord> } = {},
): Promise<Version[]> {
  const first = records[0];
  if (!first) return [];
  const shas = [...new Set(records.flatMap((r) => r.files.map((f) => f.sha256)))];
  const [blobs, protection] = await Promise.all([
    options.blobs ?? (shas.length > 0 ? deps.index.getBlobs(shas) : new Map<Sha256, BlobRecord>()),
    options.fresh ? NO_PROTECTION : loadProtection(deps, first.namespace, first.package),
  ]);
  return records.map((r) => describeVersion(r, blobs, protection));
}

/** Reads a committed version; NotFoundError when absent. */
export async function getVersion(deps: CoreDeps, caller: Caller, ref: VersionRef): Promise<Version> {
  authorize(caller.principal, ref.namespace, 'read');
  const record = await deps.index.getVersion(ref.namespace, ref.package, ref.version);
  if (!record) throw new NotFoundError(`version ${ref.namespace}/${ref.package}@${ref.version} not found`);
  const [version] = await describeVersions(deps, [record]);
  return version!;
}

export interface VersionList {
  readonly items: readonly Version[];
  readonly nextCursor: string | null;
}

/**
 * Lists a package's versions, newest commit first; an unknown package lists as empty. Deleted
 * versions are listed only with `include: 'deleted'` (a cursor stays bound to its choice).
 */
export async function listVersions(
  deps: CoreDeps,
  caller: Caller,
  ref: PackageRef & { readonly limit: number; readonly cursor?: string; readonly include?: 'deleted' },
): Promise<VersionList> {
  authorize(caller.principal, ref.namespace, 'read');
  const includeDeleted = ref.include === 'deleted';
  const scope = `versions:${ref.namespace}/${ref.package}${includeDeleted ? ':deleted' : ''}`;
  const after = ref.cursor === undefined ? undefined : deps.cursors.decode(scope, ref.cursor);
  const page = await boundedPage(
    ref.limit,
    deps.config.maxPageBytes,
    (limit) => deps.index.listVersions(ref.namespace, ref.package, limit, after, { includeDeleted }),
    (records) => describeVersions(deps, records),
  );
  return {
    items: page.items,
    nextCursor: page.next === undefined ? null : deps.cursors.encode(scope, page.next),
  };
}
