import { ArcaError, InvalidRequestError, NotFoundError, UnauthenticatedError } from '../core/errors.ts';
import type { Principal } from '../core/model.ts';
import { MethodNotAllowedError, toErrorResponse } from './errors.ts';
import { credentialsOf, namespaceOf, type Refusal, recordRefusal } from './refusalAudit.ts';
import type { Route } from './route.ts';
import { routes } from './routes.ts';
import type { ApiDeps, HttpRequest, HttpResponse } from './types.ts';

/** On every answer of the route table, on both hosts: a JSON error is never sniffed into HTML. */
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

interface Match {
  readonly route: Route;
  readonly params: Record<string, string>;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (cause) {
    throw new InvalidRequestError('malformed percent-encoding in the path', { cause });
  }
}

/**
 * Matches the raw path segment by segment, so an encoded `/` (`%2F`) never creates a segment. A last
 * pattern segment `:name*` takes the one or more segments left, each decoded, joined by `/`: a file's
 * path name arrives whole whether its slashes were encoded or not, and its schema then checks it. HEAD
 * is served as GET (node:http and API Gateway drop the body). A known path asked with another method
 * is 405 with the methods it does serve.
 */
function match(table: readonly Route[], method: string, path: string): Match | undefined {
  const segments = path.split('/');
  const wanted = method === 'HEAD' ? 'GET' : method;
  const allowed = new Set<string>();
  for (const route of table) {
    const params = matchPattern(route.path.split('/'), segments);
    if (!params) continue;
    if (route.method !== wanted) {
      allowed.add(route.method);
      if (route.method === 'GET') allowed.add('HEAD');
      continue;
    }
    for (const [k, v] of Object.entries(params)) {
      params[k] = v.split('/').map(decodeSegment).join('/');
    }
    return { route, params };
  }
  if (allowed.size === 0) return undefined;
  const allow = [...allowed].sort();
  throw new MethodNotAllowedError(
    allow,
    `${method} is not supported on ${path}; it answers ${allow.join(', ')}`,
  );
}

/** The raw (still encoded) parameters of `segments` under `pattern`, or undefined when it does not fit. */
function matchPattern(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  const rest = pattern.at(-1)?.startsWith(':') && pattern.at(-1)?.endsWith('*');
  if (rest ? segments.length < pattern.length : segments.length !== pattern.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, p] of pattern.entries()) {
    if (rest && i === pattern.length - 1) {
      // Empty segments stay in, so the schema refuses `a//b` rather than the router hiding it.
      params[p.slice(1, -1)] = segments.slice(i).join('/');
      return params;
    }
    if (p.startsWith(':')) {
      if (segments[i] === '') return undefined;
      params[p.slice(1)] = segments[i]!;
    } else if (p !== segments[i]) return undefined;
  }
  return params;
}

function parseJson(raw: string | undefined, optional: boolean): unknown {
  if (raw === undefined || raw.trim() === '') {
    if (optional) return {};
    throw new InvalidRequestError('a JSON body is required');
  }
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new InvalidRequestError('the body is not valid JSON', { cause });
  }
}

export interface ApiResult {
  readonly response: HttpResponse;
  /** Set for the bare 500 case: the host logs it; the client never sees it. */
  readonly error?: unknown;
  /**
   * Set for a 401 or 403: already counted (`authMetrics`) and audited here; a host with its own
   * metrics (Powertools on Lambda) emits `REFUSAL_METRIC[refusal.status]` from it.
   */
  readonly refusal?: Refusal;
}

/** What the request got as far as before it failed: the route, the caller, the body. */
interface Progress {
  route?: Route;
  params?: Record<string, string>;
  principal?: Principal | null;
  body?: unknown;
}

function refusalOf(
  req: HttpRequest,
  progress: Progress,
  error: unknown,
  status: number,
): Refusal | undefined {
  const { route } = progress;
  if ((status !== 401 && status !== 403) || !route || !(error instanceof ArcaError)) return undefined;
  const aimedAt = (progress.body as { namespace?: unknown } | undefined)?.namespace;
  return {
    status,
    code: error.code,
    message: error.message,
    method: req.method,
    route: route.path,
    path: req.path,
    namespace: namespaceOf(error.details?.namespace, progress.params?.ns, aimedAt),
    ...(status === 403 && progress.principal ? { principal: progress.principal } : {}),
    credentials: credentialsOf(req.headers.authorization),
  };
}

/** Route template, not path: a bounded label. Unmatched paths share one. */
function countRequest(deps: ApiDeps, route: Route | undefined, result: ApiResult, seconds: number): void {
  if (!deps.metrics) return;
  const labels = {
    route: route?.path ?? 'unmatched',
    method: route ? route.method : 'other',
    status: String(result.response.status),
  };
  deps.metrics.count('httpRequests', labels);
  deps.metrics.observe('httpDuration', seconds, labels);
  if (result.refusal) {
    deps.metrics.count('authDenials', { status: String(result.refusal.status), route: labels.route });
  }
}

/**
 * The HTTP API as a function: match the route, authenticate from the headers, only then read the body,
 * validate params/query/body with the route's schemas, call its use case, and map any error at this
 * one edge, where every 401 and 403 is also counted and audited (refusalAudit.ts).
 */
export function createApi(
  deps: ApiDeps,
  table: readonly Route[] = routes,
): (req: HttpRequest) => Promise<ApiResult> {
  const answer = async (req: HttpRequest, progress: Progress): Promise<ApiResult> => {
    try {
      const found = match(table, req.method, req.path);
      if (!found) throw new NotFoundError(`no route for ${req.method} ${req.path}`);
      const { route, params } = found;
      progress.route = route;
      progress.params = params;
      const principal = route.auth ? await deps.authenticate(req, deps) : null;
      progress.principal = principal;
      if (route.auth && !principal) throw new UnauthenticatedError('a valid bearer token is required');
      const caller = {
        principal: principal ?? { id: 'anonymous', kind: 'token', admin: false, roles: {} },
        requestId: req.requestId,
      };
      const query = route.query.parse(Object.fromEntries(req.query));
      const parsedParams = route.params ? route.params.parse(params) : {};
      const raw = req.readBody ? await req.readBody() : req.body;
      const body = route.body
        ? route.body.schema.parse(parseJson(raw, route.body.optional ?? false))
        : undefined;
      progress.body = body;
      if (!route.body && raw !== undefined && raw.trim() !== '') {
        throw new InvalidRequestError(`${req.method} ${route.path} takes no body`);
      }
      return { response: await route.handle({ params: parsedParams, query, body, caller, deps }) };
    } catch (error) {
      const { response, unexpected } = toErrorResponse(error);
      if (unexpected) return { response, error };
      const refusal = refusalOf(req, progress, error, response.status);
      if (!refusal) return { response };
      await recordRefusal(deps, refusal, req.requestId);
      return { response, refusal };
    }
  };
  return async (req) => {
    const started = performance.now();
    const progress: Progress = {};
    const result = await answer(req, progress);
    countRequest(deps, progress.route, result, (performance.now() - started) / 1000);
    const headers = { ...result.response.headers, ...SECURITY_HEADERS };
    return { ...result, response: { ...result.response, headers } };
  };
}
