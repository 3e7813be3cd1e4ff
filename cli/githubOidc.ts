import { CliError, EXIT } from './errors.ts';
import { readText, send } from './http.ts';

/** A token this close to its `exp` is not sent: a publish of many parts may outlive it. */
const REFRESH_BEFORE_EXPIRY_MS = 60_000;
/** The audience Arca's trust rules expect by default (`ARCA_OIDC_AUDIENCE` overrides it). */
export const DEFAULT_OIDC_AUDIENCE = 'arca';

/** GitHub Actions sets both when the workflow grants `permissions: id-token: write`. */
export const isGitHubOidcAvailable = (env: NodeJS.ProcessEnv): boolean =>
  Boolean(env['ACTIONS_ID_TOKEN_REQUEST_URL'] && env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']);

/** Hands out a JWT to send as the bearer token; resolves the same one until it nears expiry. */
export type TokenSource = () => Promise<string>;

interface Cached {
  readonly token: string;
  /** Epoch ms of the JWT's `exp`; 0 when it has none, so it is requested again every time. */
  readonly expiresAtMs: number;
}

/**
 * The job's GitHub OIDC token, requested from the Actions runtime
 * (`GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with `Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`) and
 * kept for the process until 60 s before its `exp`. Concurrent callers share one request. Any failure
 * is exit 5: without the token the command cannot authenticate, and retrying it blindly hides a
 * missing `id-token: write`.
 */
export function gitHubOidcTokenSource(env: NodeJS.ProcessEnv, now: () => number = Date.now): TokenSource {
  const requestUrl = env['ACTIONS_ID_TOKEN_REQUEST_URL'] ?? '';
  const requestToken = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'] ?? '';
  const audience = env['ARCA_OIDC_AUDIENCE'] || DEFAULT_OIDC_AUDIENCE;
  const request = () => requestGitHubToken(requestUrl, requestToken, audience);
  let current: Promise<Cached> | undefined;
  return async () => {
    const seen = current;
    if (seen) {
      // A failed request stays failed: the command exits 5 with its message, whoever asks.
      const cached = await seen;
      if (now() < cached.expiresAtMs - REFRESH_BEFORE_EXPIRY_MS) return cached.token;
      // Near expiry: the first caller to notice asks again; the others wait for its answer.
      if (current === seen) current = request();
    }
    current ??= request();
    return (await current).token;
  };
}

async function requestGitHubToken(requestUrl: string, bearer: string, audience: string): Promise<Cached> {
  const fail = (why: string, cause?: unknown) =>
    new CliError(EXIT.auth, `could not get a GitHub Actions OIDC token: ${why}`, 'OidcTokenUnavailable', {
      cause,
    });
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch (error) {
    throw fail('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL', error);
  }
  url.searchParams.set('audience', audience);
  let status: number;
  let body: string;
  try {
    const res = await send({
      method: 'GET',
      url: url.toString(),
      headers: { accept: 'application/json', authorization: `Bearer ${bearer}` },
    });
    status = res.statusCode ?? 0;
    body = await readText(res);
  } catch (error) {
    throw fail(
      `${url.host} did not answer (${error instanceof Error ? error.message : String(error)})`,
      error,
    );
  }
  if (status !== 200) {
    throw fail(
      `the token endpoint answered HTTP ${status}; does the job have \`permissions: id-token: write\`?`,
    );
  }
  let token: unknown;
  try {
    token = (JSON.parse(body) as { value?: unknown }).value;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw fail('the token endpoint answered without a JWT in "value"');
  }
  return { token, expiresAtMs: expiryOf(token) };
}

/**
 * The `exp` of a JWT in epoch ms, read from its payload without verifying anything: the server
 * verifies; the client only needs to know when to ask for a new one. 0 when there is none.
 */
export function expiryOf(jwt: string): number {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : 0;
  } catch {
    return 0;
  }
}
