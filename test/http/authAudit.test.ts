import { afterAll, beforeAll, expect, it } from 'vitest';
import { authMetrics } from '../../functions/http/authMetrics.ts';
import { UNAUTHENTICATED_AUDITS_PER_MINUTE } from '../../functions/http/refusalAudit.ts';
import type { Clock } from '../../functions/ports.ts';
import { call } from '../support/client.ts';
import { SCOPED_TOKENS } from '../support/embedded.ts';
import { sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

/** A clock that stands still until moved, so a test's requests fall in one rate-cap minute. */
class StoppedClock implements Clock {
  private at = Math.floor(Date.now() / 60_000) * 60_000 + 1000;
  now(): Date {
    return new Date(this.at);
  }
  advance(seconds: number): void {
    this.at += seconds * 1000;
  }
}

interface AuditItem {
  readonly action: string;
  readonly actor: string;
  readonly namespace: string;
  readonly target: string;
  readonly requestId: string;
  readonly details?: Record<string, unknown>;
}

const upload = {
  namespace: 'alpha',
  package: 'app',
  version: '1.0.0',
  files: [{ name: 'app.bin', size: 1, sha256: sha256('x') }],
};

describeForEachBackend('refused requests are audited and counted', (kind) => {
  let s: TestServer;
  const clock = new StoppedClock();
  /** The audit events written from `since` on (the whole store, read by the store admin). */
  const auditSince = async (since: Date, action?: string): Promise<AuditItem[]> => {
    const res = await call(s.url, 'GET', `/v1/audit?since=${since.toISOString()}&limit=1000`);
    expect(res.status).toBe(200);
    return (res.body.items as AuditItem[]).filter((e) => action === undefined || e.action === action);
  };
  const refusedCount = (status: 401 | 403, route: string) =>
    authMetrics.refusals().find((c) => c.status === status && c.route === route)?.count ?? 0;

  beforeAll(async () => {
    s = await startTestServer(kind, { clock });
  });
  afterAll(async () => s?.close());

  it('audits a 403 with who, what and why, shows it to the namespace admin, and counts it', async () => {
    const since = clock.now();
    const counted = refusedCount(403, 'POST /v1/uploads');

    const refused = await call(s.url, 'POST', '/v1/uploads', upload, SCOPED_TOKENS.alphaReader);

    expect(refused.status).toBe(403);
    const events = await auditSince(since, 'auth.forbidden');
    expect(events).toEqual([
      expect.objectContaining({
        actor: 'alpha-reader',
        namespace: 'alpha',
        target: 'POST /v1/uploads',
        requestId: refused.headers.get('x-request-id'),
        details: expect.objectContaining({
          status: 403,
          code: 'Forbidden',
          message: refused.body.error.message,
          credentials: 'bearer',
          kind: 'token',
        }),
      }),
    ]);
    const asNamespaceAdmin = await call(
      s.url,
      'GET',
      `/v1/audit?namespace=alpha&since=${since.toISOString()}`,
      undefined,
      SCOPED_TOKENS.alphaAdmin,
    );
    expect(asNamespaceAdmin.body.items.map((e: AuditItem) => e.action)).toContain('auth.forbidden');
    expect(refusedCount(403, 'POST /v1/uploads')).toBe(counted + 1);
  });

  it('audits a 401 as anonymous, with the route and what was presented but never the token', async () => {
    const since = clock.now();
    const counted = authMetrics.total(401);

    const wrongToken = await call(s.url, 'GET', '/v1/whoami', undefined, 'not-a-token-s3cret');
    const noToken = await call(s.url, 'GET', '/v1/packages/alpha/app/versions', undefined, null);

    expect([wrongToken.status, noToken.status]).toEqual([401, 401]);
    const events = await auditSince(since, 'auth.unauthenticated');
    expect(events).toEqual([
      expect.objectContaining({
        actor: 'anonymous',
        namespace: '*',
        target: 'GET /v1/whoami',
        requestId: wrongToken.headers.get('x-request-id'),
        details: expect.objectContaining({ status: 401, code: 'Unauthenticated', credentials: 'bearer' }),
      }),
      expect.objectContaining({
        actor: 'anonymous',
        namespace: 'alpha',
        target: 'GET /v1/packages/:ns/:pkg/versions',
        details: expect.objectContaining({ credentials: 'none' }),
      }),
    ]);
    expect(JSON.stringify(events)).not.toContain('s3cret');
    expect(authMetrics.total(401)).toBe(counted + 2);
  });

  it('audits at most 60 401s a minute, counts every one, and still audits every 403', async () => {
    clock.advance(60);
    const since = clock.now();
    const counted = authMetrics.total(401);
    const skipped = authMetrics.auditsSkipped();
    const flood = UNAUTHENTICATED_AUDITS_PER_MINUTE + 10;

    const statuses = await Promise.all(
      Array.from(
        { length: flood },
        async () => (await call(s.url, 'GET', '/v1/whoami', undefined, null)).status,
      ),
    );
    const forbidden = await call(
      s.url,
      'GET',
      '/v1/namespaces/alpha/policy',
      undefined,
      SCOPED_TOKENS.alphaWriter,
    );

    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(forbidden.status).toBe(403);
    expect(await auditSince(since, 'auth.unauthenticated')).toHaveLength(UNAUTHENTICATED_AUDITS_PER_MINUTE);
    expect(await auditSince(since, 'auth.forbidden')).toHaveLength(1);
    expect(authMetrics.total(401)).toBe(counted + flood);
    expect(authMetrics.auditsSkipped()).toBe(skipped + 10);

    clock.advance(60);
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, null)).status).toBe(401);
    expect(await auditSince(since, 'auth.unauthenticated')).toHaveLength(
      UNAUTHENTICATED_AUDITS_PER_MINUTE + 1,
    );
  });
});
