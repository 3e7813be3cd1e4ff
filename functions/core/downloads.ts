import { authorize } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { ConflictError, NotFoundError, VersionDeletedError } from './errors.ts';
import { measured } from './metrics.ts';
import { getVersion, type VersionRef } from './versions.ts';

export interface ResolvedDownload {
  readonly url: string;
  readonly expiresAt: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * Resolves one file of a version to a short-lived signed URL. Only an `available` version is served:
 * a pending or quarantined one answers 409, so unverified bytes never leave the store; a deleted one
 * answers 410 `VersionDeleted` (before its file list is looked at: GC empties it).
 */
export function resolveDownload(
  deps: CoreDeps,
  caller: Caller,
  ref: VersionRef & { readonly file: string },
): Promise<ResolvedDownload> {
  return measured(deps.metrics, 'fetches', () => resolve(deps, caller, ref), 'fetchDuration');
}

async function resolve(
  deps: CoreDeps,
  caller: Caller,
  ref: VersionRef & { readonly file: string },
): Promise<ResolvedDownload> {
  authorize(caller.principal, ref.namespace, 'read');
  const version = await getVersion(deps, caller, ref);
  if (version.state === 'deleted') {
    throw new VersionDeletedError(
      `version ${ref.namespace}/${ref.package}@${ref.version} was deleted: its files are no longer served`,
      { details: { state: 'deleted', deletedAt: version.deletedAt, reason: version.reason } },
    );
  }
  const file = version.files.find((f) => f.name === ref.file);
  if (!file)
    throw new NotFoundError(`file ${ref.file} not found in ${ref.namespace}/${ref.package}@${ref.version}`);
  if (version.state !== 'available') {
    throw new ConflictError(
      `version ${ref.namespace}/${ref.package}@${ref.version} is ${version.state}, not available`,
      {
        details: { state: version.state },
      },
    );
  }
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.downloadTtlSeconds * 1000);
  // Served under its last segment: a download's file name (Content-Disposition) cannot hold a `/`.
  const servedAs = file.name.slice(file.name.lastIndexOf('/') + 1);
  const url = await deps.blobs.signDownload(file.sha256, servedAs, file.mediaType, expiresAt);
  return { url, expiresAt: expiresAt.toISOString(), sha256: file.sha256, size: file.size };
}
