import { authorize, authorizeAdmin } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import type { AuditEvent } from './model.ts';

/**
 * The audit log, oldest first, optionally narrowed to a namespace and a start time. The whole log is
 * for store admins; one namespace's events also for that namespace's admins.
 */
export async function listAuditEvents(
  deps: CoreDeps,
  caller: Caller,
  query: {
    readonly namespace?: string;
    readonly since?: string;
    readonly limit: number;
    readonly cursor?: string;
  },
): Promise<{ items: readonly AuditEvent[]; nextCursor: string | null }> {
  if (query.namespace) authorize(caller.principal, query.namespace, 'admin');
  else authorizeAdmin(caller.principal);
  const scope = `audit:${query.namespace ?? '*'}:${query.since ?? ''}`;
  const after = query.cursor === undefined ? undefined : deps.cursors.decode(scope, query.cursor);
  const filter = {
    ...(query.namespace ? { namespace: query.namespace } : {}),
    ...(query.since ? { since: query.since } : {}),
  };
  const page = await deps.index.listAudit(filter, query.limit, after);
  return {
    items: page.items,
    nextCursor: page.next === undefined ? null : deps.cursors.encode(scope, page.next),
  };
}
