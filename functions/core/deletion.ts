import { authorize } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { ConflictError, NotFoundError, ProtectedError } from './errors.ts';
import type { VersionDeletion } from './model.ts';
import { protectionOf } from './protection.ts';
import { loadProtection, type VersionRef } from './versions.ts';

/** A condition that failed without a stage or lease to show was a race that has since settled. */
const ATTEMPTS = 3;

/**
 * Deletes a version for good (a CVE, a leaked secret): it turns `deleted` at once, its files are
 * never served again, it is listed only on request, and its number is never published again; GC
 * then drops its blob references, and the bytes go once nothing else references them. Refused with
 * ProtectedError while a stage points at it or a lease holds it: the write is conditioned on both,
 * and promotions and leases are conditioned on the version being live, so neither can slip past.
 * Deleting a deleted version changes nothing. The namespace's admins (and store admins) only.
 */
export async function deleteVersion(
  deps: CoreDeps,
  caller: Caller,
  ref: VersionRef & { readonly reason: string },
): Promise<void> {
  authorize(caller.principal, ref.namespace, 'admin');
  const label = `${ref.namespace}/${ref.package}@${ref.version}`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const record = await deps.index.getVersion(ref.namespace, ref.package, ref.version);
    if (!record) throw new NotFoundError(`version ${label} not found`);
    if (record.state === 'deleted') return;
    const now = deps.clock.now();
    const deletion: VersionDeletion = { at: now.toISOString(), by: caller.principal.id, reason: ref.reason };
    const audit = {
      at: deletion.at,
      actor: caller.principal.id,
      action: 'version.delete',
      namespace: ref.namespace,
      target: label,
      requestId: caller.requestId,
      details: { reason: ref.reason },
    };
    if (await deps.index.markVersionDeleted(ref, deletion, now, audit)) return;
    const held = protectionOf(await loadProtection(deps, ref.namespace, ref.package), ref.version);
    if (held.stages.length > 0 || held.leases.length > 0) {
      throw new ProtectedError(`version ${label} is protected: move its stages and end its leases first`, {
        details: {
          stages: held.stages,
          leases: held.leases.map((l) => ({ leaseId: l.leaseId, holder: l.holder, expiresAt: l.expiresAt })),
        },
      });
    }
  }
  throw new ConflictError(`version ${label} kept changing during the delete; try again`);
}
