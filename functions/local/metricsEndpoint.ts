import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PrometheusMetrics } from '../adapters/prometheus/prometheusMetrics.ts';
import type { CoreDeps } from '../core/deps.ts';
import type { Principal } from '../core/model.ts';
import { errorBody } from '../http/errors.ts';
import type { Authenticator } from '../http/types.ts';

export const METRICS_PATH = '/metrics';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who may scrape: the metrics token (`ARCA_METRICS_TOKEN`), a store admin, or a principal with a
 * role in every namespace (`*`): the counts span all namespaces, so a caller limited to some
 * namespaces would learn about the others.
 */
export function mayReadMetrics(principal: Principal | null): boolean {
  if (!principal) return false;
  return principal.admin || (principal.roles['*']?.length ?? 0) > 0;
}

function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
}

function refuse(res: ServerResponse, status: 401 | 403 | 405, code: string, message: string): number {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  if (status === 405) headers.allow = 'GET, HEAD';
  res.writeHead(status, headers).end(JSON.stringify(errorBody(code, message)));
  return status;
}

/**
 * `GET /metrics`: the Prometheus exposition. Fails closed: no credentials 401, credentials without
 * the right 403; the metrics token is compared by digest in constant time.
 */
export async function answerMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  context: {
    readonly metrics: PrometheusMetrics;
    readonly deps: CoreDeps;
    readonly authenticate: Authenticator;
    readonly token?: string;
  },
): Promise<number> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return refuse(res, 405, 'MethodNotAllowed', `${req.method} is not supported on /metrics`);
  }
  const presented = bearerOf(req);
  if (!presented) return refuse(res, 401, 'Unauthenticated', 'a valid bearer token is required');
  const byToken = context.token !== undefined && timingSafeEqual(digest(context.token), digest(presented));
  if (!byToken) {
    const principal = await context.authenticate(
      {
        method: 'GET',
        path: METRICS_PATH,
        query: new URLSearchParams(),
        headers: req.headers as Record<string, string | undefined>,
        requestId: '',
      },
      context.deps,
    );
    if (!principal) return refuse(res, 401, 'Unauthenticated', 'a valid bearer token is required');
    if (!mayReadMetrics(principal)) {
      return refuse(res, 403, 'Forbidden', `${principal.id} may not read the store's metrics`);
    }
  }
  const { contentType, body } = await context.metrics.scrape();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return 200;
}
