import type { CoreDeps } from '../core/deps.ts';
import type { AuditEvent, Principal } from '../core/model.ts';
import { isNamespace } from '../core/names.ts';
import { type AuthMetrics, authMetrics, type RefusalStatus } from './authMetrics.ts';

/** At most this many 401s a minute are written to the audit log per process; the rest are only counted. */
export const UNAUTHENTICATED_AUDITS_PER_MINUTE = 60;
/** Longest request path kept in an audit event: the path of a 401 is whatever the caller sent. */
const MAX_AUDITED_PATH = 512;

/** A request the route table refused for want of credentials (401) or of a role (403). */
export interface Refusal {
  readonly status: RefusalStatus;
  /** `Unauthenticated` or `Forbidden`. */
  readonly code: string;
  /** Why, as the caller was told. */
  readonly message: string;
  readonly method: string;
  /** The matched route's pattern. */
  readonly route: string;
  readonly path: string;
  /** The namespace the request aimed at, when it named a valid one. */
  readonly namespace?: string;
  /** Who, for a 403; absent for a 401 (the caller is anonymous). */
  readonly principal?: Principal;
  /** What the caller presented: nothing, a bearer token, or another scheme (SigV4 …). Never the secret. */
  readonly credentials: 'none' | 'bearer' | 'other';
}

/** The first of `candidates` that is a valid namespace name. */
export function namespaceOf(...candidates: unknown[]): string | undefined {
  return candidates.find((c): c is string => typeof c === 'string' && isNamespace(c));
}

export function credentialsOf(authorization: string | undefined): Refusal['credentials'] {
  if (!authorization) return 'none';
  return /^Bearer\s/i.test(authorization) ? 'bearer' : 'other';
}

/** The audit event of a refusal: who (principal id or `anonymous`), what (method and route), why. */
export function refusalEvent(refusal: Refusal, at: Date, requestId: string): AuditEvent {
  const claims = refusal.principal?.claims;
  return {
    at: at.toISOString(),
    actor: refusal.principal?.id ?? 'anonymous',
    action: refusal.status === 401 ? 'auth.unauthenticated' : 'auth.forbidden',
    namespace: refusal.namespace ?? '*',
    target: `${refusal.method} ${refusal.route}`,
    requestId,
    details: {
      status: refusal.status,
      code: refusal.code,
      message: refusal.message,
      path: refusal.path.slice(0, MAX_AUDITED_PATH),
      credentials: refusal.credentials,
      ...(refusal.principal ? { kind: refusal.principal.kind } : {}),
      ...(claims && Object.keys(claims).length > 0 ? { claims } : {}),
    },
  };
}

/**
 * A fixed one-minute window of the clock: `take` answers true for the first `limit` calls in each
 * window. Keeps unauthenticated callers, who cost nothing to be, from flooding the audit log.
 */
export class AuditRateCap {
  private window = Number.NaN;
  private used = 0;

  constructor(private readonly limit = UNAUTHENTICATED_AUDITS_PER_MINUTE) {}

  take(now: Date): boolean {
    const window = Math.floor(now.getTime() / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }
}

/**
 * This process's cap: shared by every API instance a host builds (the Lambda host builds one per
 * request), so the cap holds per process, not per instance.
 */
export const unauthenticatedAuditCap = new AuditRateCap();

/**
 * Counts a refusal, and audits it: every 403, and 401s up to the rate cap. A failed audit write is
 * counted, never turned into the request's answer.
 */
export async function recordRefusal(
  deps: Pick<CoreDeps, 'index' | 'clock'>,
  refusal: Refusal,
  requestId: string,
  cap: AuditRateCap = unauthenticatedAuditCap,
  metrics: AuthMetrics = authMetrics,
): Promise<void> {
  metrics.countRefusal(refusal.status, `${refusal.method} ${refusal.route}`);
  const now = deps.clock.now();
  if (refusal.status === 401 && !cap.take(now)) {
    metrics.countAuditSkipped();
    return;
  }
  try {
    await deps.index.appendAudit(refusalEvent(refusal, now, requestId));
  } catch {
    metrics.countAuditFailed();
  }
}
