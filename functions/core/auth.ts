import { ForbiddenError } from './errors.ts';
import type { Principal, Role } from './model.ts';

/** Any role in a namespace implies `read` there; `admin` implies every role. */
function holds(roles: readonly Role[] | undefined, role: Role): boolean {
  if (!roles) return false;
  return roles.includes('admin') || roles.includes(role) || (role === 'read' && roles.length > 0);
}

/** Throws ForbiddenError unless `principal` holds `role` in `namespace`. */
export function authorize(principal: Principal, namespace: string, role: Role): void {
  if (principal.admin) return;
  if (holds(principal.roles[namespace], role) || holds(principal.roles['*'], role)) return;
  throw new ForbiddenError(`${principal.id} lacks the ${role} role in namespace ${namespace}`, {
    details: { namespace, role },
  });
}

/**
 * Throws ForbiddenError unless `principal` may promote in `namespace` to `stage`: the `promote` role
 * there, and, when its promotions are limited to some stages (an OIDC rule, an IAM binding), `stage`
 * among them.
 */
export function authorizePromote(principal: Principal, namespace: string, stage: string): void {
  authorize(principal, namespace, 'promote');
  if (principal.admin) return;
  const limited = principal.promoteStages?.[namespace] ?? principal.promoteStages?.['*'];
  if (limited && !limited.includes(stage)) {
    throw new ForbiddenError(`${principal.id} may promote in ${namespace} only to ${limited.join(', ')}`, {
      details: { namespace, stage, allowed: limited },
    });
  }
}

/** Throws ForbiddenError unless `principal` is a store-wide admin. */
export function authorizeAdmin(principal: Principal): void {
  if (!principal.admin) throw new ForbiddenError(`${principal.id} is not an administrator`);
}

/**
 * The namespaces whose content `principal` may read: `'*'` for a store admin or a `*` role, else
 * those where it holds any role (every role implies `read`).
 */
export function readableNamespaces(principal: Principal): '*' | readonly string[] {
  if (principal.admin || (principal.roles['*']?.length ?? 0) > 0) return '*';
  return Object.entries(principal.roles)
    .filter(([, roles]) => roles.length > 0)
    .map(([namespace]) => namespace);
}
