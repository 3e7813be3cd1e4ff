import { authorize } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { NotFoundError } from './errors.ts';
import { EVENT_TYPES, emitEvent, leaseEvent } from './events.ts';
import { newId } from './ids.ts';
import type { AuditEvent, Lease } from './model.ts';
import type { VersionRef } from './versions.ts';

export const LEASE_TTL_BOUNDS = { min: 60, max: 86_400 } as const;

const audit = (caller: Caller, action: string, lease: Lease, now: Date): AuditEvent => ({
  at: now.toISOString(),
  actor: caller.principal.id,
  action,
  namespace: lease.namespace,
  target: `${lease.namespace}/${lease.package}@${lease.version}`,
  requestId: caller.requestId,
  details: { leaseId: lease.leaseId, holder: lease.holder, expiresAt: lease.expiresAt },
});

/** Holds a version against GC for `ttlSeconds`; the version must exist (404 otherwise). */
export async function acquireLease(
  deps: CoreDeps,
  caller: Caller,
  input: VersionRef & { readonly holder: string; readonly ttlSeconds: number },
): Promise<{ leaseId: string; expiresAt: string }> {
  authorize(caller.principal, input.namespace, 'write');
  const now = deps.clock.now();
  const lease: Lease = {
    leaseId: newId(now),
    namespace: input.namespace,
    package: input.package,
    version: input.version,
    holder: input.holder,
    createdAt: now.toISOString(),
    createdBy: caller.principal.id,
    expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000).toISOString(),
  };
  await deps.index.acquireLease(lease, audit(caller, 'lease.acquire', lease, now));
  await emitEvent(deps, leaseEvent(EVENT_TYPES.leaseAcquired, lease, now));
  return { leaseId: lease.leaseId, expiresAt: lease.expiresAt };
}

async function leaseFor(deps: CoreDeps, caller: Caller, leaseId: string): Promise<Lease> {
  const lease = await deps.index.getLease(leaseId);
  if (!lease) throw new NotFoundError(`lease ${leaseId} not found`);
  authorize(caller.principal, lease.namespace, 'write');
  return lease;
}

/** Extends an active lease to now + ttl; an expired lease cannot be revived (409). */
export async function renewLease(
  deps: CoreDeps,
  caller: Caller,
  leaseId: string,
  ttlSeconds: number,
): Promise<{ leaseId: string; expiresAt: string }> {
  const lease = await leaseFor(deps, caller, leaseId);
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const renewed = await deps.index.renewLease(
    leaseId,
    expiresAt,
    now,
    audit(caller, 'lease.renew', { ...lease, expiresAt: expiresAt.toISOString() }, now),
  );
  return { leaseId, expiresAt: renewed.expiresAt };
}

export async function releaseLease(deps: CoreDeps, caller: Caller, leaseId: string): Promise<void> {
  const lease = await leaseFor(deps, caller, leaseId);
  const now = deps.clock.now();
  await deps.index.releaseLease(leaseId, audit(caller, 'lease.release', lease, now));
  await emitEvent(deps, leaseEvent(EVENT_TYPES.leaseReleased, lease, now));
}
