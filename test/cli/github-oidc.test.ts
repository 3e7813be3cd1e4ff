import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveAuthorizer } from '../../cli/auth.ts';
import { expiryOf, gitHubOidcTokenSource } from '../../cli/githubOidc.ts';
import { arca } from './harness.ts';

const REQUEST_TOKEN = 'runtime-request-token';
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** A JWT-shaped string (unsigned: the client never verifies, only reads `exp`). */
const jwt = (payload: Record<string, unknown>) =>
  [{ alg: 'RS256', typ: 'JWT' }, payload, 'signature']
    .map((part) => Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url'))
    .join('.');

interface Seen {
  readonly url: URL;
  readonly authorization: string | undefined;
}

async function listen(handle: (req: IncomingMessage) => { status: number; body: unknown }) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ url: new URL(req.url ?? '/', 'http://x'), authorization: req.headers.authorization });
    const { status, body } = handle(req);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * The Actions runtime's token endpoint: answers only the runtime's bearer, and mints a token for
 * the requested audience that expires an hour from now.
 */
const TOKEN_LIFETIME_SECONDS = 3600;
let endpointStatus = 200;
const endpoint = await listen((req) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}`) return { status: 401, body: {} };
  if (endpointStatus !== 200) return { status: endpointStatus, body: { message: 'boom' } };
  const exp = Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS;
  const aud = url.searchParams.get('audience');
  return { status: 200, body: { value: jwt({ aud, exp, sub: 'repo:org/x:environment:prod' }) } };
});

/** A stand-in for Arca that answers whoami for whatever bearer token it is sent. */
const fakeArca = await listen(() => ({
  status: 200,
  body: {
    id: `oidc:${GITHUB_ISSUER}#repo:org/x:environment:prod`,
    kind: 'oidc',
    admin: false,
    roles: { payments: ['write', 'promote'] },
    promoteStages: { payments: ['dev'] },
    claims: { repository: 'org/x', ref: 'refs/heads/main' },
  },
}));

const github = {
  ACTIONS_ID_TOKEN_REQUEST_URL: `${endpoint.url}/token?api-version=2.0`,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
  ARCA_OIDC_AUDIENCE: '',
};
const noToken = { url: fakeArca.url, token: '' };

beforeEach(() => {
  endpoint.seen.length = 0;
  fakeArca.seen.length = 0;
  endpointStatus = 200;
});

afterAll(async () => {
  await endpoint.close();
  await fakeArca.close();
});

describe('arca on GitHub Actions without a token', () => {
  it('requests an OIDC token for audience arca with the runtime bearer and sends it to Arca', async () => {
    const result = await arca(noToken, ['whoami'], github);

    expect(result.code, result.stderr).toBe(0);
    expect(endpoint.seen).toHaveLength(1);
    expect(endpoint.seen[0]!.url.pathname).toBe('/token');
    expect(endpoint.seen[0]!.url.searchParams.get('api-version')).toBe('2.0');
    expect(endpoint.seen[0]!.url.searchParams.get('audience')).toBe('arca');
    const sent = fakeArca.seen[0]!.authorization!;
    expect(sent).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.parse(Buffer.from(sent.split('.')[1]!, 'base64url').toString())).toMatchObject({
      aud: 'arca',
    });
    expect(result.stdout).toBe(
      `oidc:${GITHUB_ISSUER}#repo:org/x:environment:prod  (oidc)\nstore admin: no\nroles:\n` +
        '  payments  write, promote (stages: dev)\nclaims:\n  repository  org/x\n  ref         refs/heads/main\n',
    );
  });

  it('asks for the audience ARCA_OIDC_AUDIENCE names', async () => {
    const result = await arca(noToken, ['whoami'], { ...github, ARCA_OIDC_AUDIENCE: 'arca-prod' });

    expect(result.code, result.stderr).toBe(0);
    expect(endpoint.seen[0]!.url.searchParams.get('audience')).toBe('arca-prod');
  });

  it('prefers the OIDC token to AWS credentials in the environment when the URL is not API Gateway', async () => {
    const aws = {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'us-east-1',
    };

    const result = await arca(noToken, ['whoami'], { ...github, ...aws });

    expect(result.code, result.stderr).toBe(0);
    expect(fakeArca.seen[0]!.authorization).toMatch(/^Bearer /);
  });

  it('sends ARCA_TOKEN, not an OIDC token, when one is given', async () => {
    const result = await arca({ url: fakeArca.url, token: 'arca_given' }, ['whoami'], github);

    expect(result.code, result.stderr).toBe(0);
    expect(fakeArca.seen[0]!.authorization).toBe('Bearer arca_given');
    expect(endpoint.seen).toHaveLength(0);
  });

  it('exits 5 with the reason when the token endpoint refuses', async () => {
    endpointStatus = 403;

    const result = await arca(noToken, ['whoami'], github);

    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      'could not get a GitHub Actions OIDC token: the token endpoint answered HTTP 403',
    );
    expect(result.stderr).toContain('id-token: write');
    expect(fakeArca.seen).toHaveLength(0);
  });

  it('exits 5 when the token endpoint cannot be reached', async () => {
    const result = await arca(noToken, ['whoami'], {
      ...github,
      ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/token?api-version=2.0',
    });

    expect(result.code).toBe(5);
    expect(result.stderr).toContain('could not get a GitHub Actions OIDC token: 127.0.0.1:9 did not answer');
  });
});

describe('gitHubOidcTokenSource', () => {
  const env = { ...github };

  it('requests one token for concurrent callers and keeps it until 60 s before it expires', async () => {
    let now = Date.now();
    const source = gitHubOidcTokenSource(env, () => now);

    const [first, second] = await Promise.all([source(), source()]);
    const expiresAt = expiryOf(first);
    now = expiresAt - 61_000;
    const stillFirst = await source();
    now = expiresAt - 59_000;
    const refreshed = await source();

    expect(second).toBe(first);
    expect(stillFirst).toBe(first);
    expect(endpoint.seen).toHaveLength(2);
    expect(refreshed.split('.')).toHaveLength(3);
  });

  it('reads exp from the payload, and 0 from anything that is not a JWT', () => {
    expect(expiryOf(jwt({ exp: 1_900_000_000 }))).toBe(1_900_000_000_000);
    expect(expiryOf('not-a-jwt')).toBe(0);
    expect(expiryOf(jwt({ sub: 'no exp' }))).toBe(0);
  });
});

describe('resolveAuthorizer on GitHub Actions', () => {
  const aws = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
  const apiGateway = new URL('https://abc123.execute-api.us-east-1.amazonaws.com/v1/whoami');
  const authorizationOf = async (mode: string, url: URL, env: NodeJS.ProcessEnv) =>
    (await resolveAuthorizer(mode, url, undefined, env)('GET', url, {}, ''))['authorization'];

  it('signs with SigV4 on an API Gateway URL when the job holds AWS credentials (the SigV4 API)', async () => {
    expect(await authorizationOf('auto', apiGateway, { ...github, ...aws })).toMatch(/^AWS4-HMAC-SHA256 /);
  });

  it('sends the OIDC token on an API Gateway URL when the job holds no AWS credentials (the bearer API)', async () => {
    expect(await authorizationOf('auto', apiGateway, github)).toMatch(/^Bearer /);
  });

  it('sends the OIDC token on an API Gateway URL, AWS credentials or not, with --auth bearer', async () => {
    expect(await authorizationOf('bearer', apiGateway, { ...github, ...aws })).toMatch(/^Bearer /);
  });

  it('signs with SigV4 when --auth sigv4 asks for it, whatever the URL', async () => {
    const custom = new URL('https://arca.example.com/v1/whoami');

    expect(await authorizationOf('sigv4', custom, { ...github, ...aws, AWS_REGION: 'eu-west-1' })).toMatch(
      /^AWS4-HMAC-SHA256 /,
    );
  });
});
