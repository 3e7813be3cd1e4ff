/** The statuses of a refused request: no valid credentials (401), or credentials without the role (403). */
export type RefusalStatus = 401 | 403;

/** The metric name a refusal is counted under, on every host (a Powertools metric on Lambda). */
export const REFUSAL_METRIC: Readonly<Record<RefusalStatus, string>> = {
  401: 'Unauthenticated',
  403: 'Forbidden',
};

export interface RefusalCount {
  readonly status: RefusalStatus;
  /** The route pattern, `POST /v1/uploads/:uploadId/commit`: a bounded label, never a raw path. */
  readonly route: string;
  readonly count: number;
}

/**
 * Refused requests counted since the process started, by status and route, so "more 401s and 403s
 * than usual" is visible. Both hosts count through the route table (`http/api.ts`); a metrics
 * endpoint reads `refusals()`.
 */
export class AuthMetrics {
  private readonly counts = new Map<string, RefusalCount>();
  /** 401s past the audit rate cap: counted here, not written to the audit log. */
  private skipped = 0;
  /** Audit writes of refusals that failed (the refusal itself is still answered). */
  private failed = 0;

  countRefusal(status: RefusalStatus, route: string): void {
    const key = `${status} ${route}`;
    const count = (this.counts.get(key)?.count ?? 0) + 1;
    this.counts.set(key, { status, route, count });
  }

  countAuditSkipped(): void {
    this.skipped++;
  }

  countAuditFailed(): void {
    this.failed++;
  }

  /** Every (status, route) counted so far. */
  refusals(): RefusalCount[] {
    return [...this.counts.values()];
  }

  total(status: RefusalStatus): number {
    return this.refusals()
      .filter((c) => c.status === status)
      .reduce((sum, c) => sum + c.count, 0);
  }

  auditsSkipped(): number {
    return this.skipped;
  }

  auditsFailed(): number {
    return this.failed;
  }
}

/** This process's counters. */
export const authMetrics = new AuthMetrics();
