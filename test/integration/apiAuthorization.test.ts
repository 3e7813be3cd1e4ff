import { describe, expect, it } from 'vitest';
import type { AwsBackend } from '../../functions/adapters/aws/awsBackend.ts';
import { JoseOidcVerifier } from '../../functions/adapters/oidc/joseOidcVerifier.ts';
import type { VerifiedToken } from '../../functions/core/access.ts';
import { awsAccessFromEnv, defaultDeps } from '../../functions/handlers/api.ts';
import type { Route } from '../../functions/http/route.ts';
import { routes } from '../../functions/http/routes.ts';
import { content } from '../support/fixtures.ts';
import {
  type AuthorizerContext,
  apiEvent,
  type Call,
  callerOf,
  drain,
  fixedOidc,
  handlerWith,
  iamCaller,
  motoBackend,
  publish,
} from './apiEvents.ts';
import { useMoto } from './moto.ts';

useMoto();

const ADMIN_ROLE = 'arn:aws:iam::123456789012:role/platform-admin';
const ADMIN = iamCaller('arn:aws:sts::123456789012:assumed-role/platform-admin/alice');
/** The GitHub CI role's session: allowed `execute-api:Invoke` by the stack, bound to nothing here. */
const UNLISTED_IAM = iamCaller('arn:aws:sts::123456789012:assumed-role/github-ci/run-7');
/** A valid OIDC token that no namespace's trust rule matches. */
const UNTRUSTED_OIDC: VerifiedToken = {
  issuer: 'https://token.actions.githubusercontent.com',
  subject: 'repo:acme/other:ref:refs/heads/main',
  audiences: ['arca'],
  claims: { repository: 'acme/other', ref: 'refs/heads/main' },
};
const UNTRUSTED_JWT = { bearer: 'eyJ.untrusted.sig' } as const;
const oidc = fixedOidc({ [UNTRUSTED_JWT.bearer]: UNTRUSTED_OIDC });

/** Valid bodies for the routes that require one, so a 403 cannot hide behind a 400. */
const REQUIRED_BODIES: Record<string, unknown> = {
  'POST /v1/uploads': {
    namespace: 'web',
    package: 'site',
    version: '2.0.0',
    files: [{ name: 'site.tgz', size: 1, sha256: 'a'.repeat(64) }],
  },
  'POST /v1/packages/:ns/:pkg/versions/:version/promote': { stage: 'prod' },
  'POST /v1/leases': {
    namespace: 'web',
    package: 'site',
    version: '1.0.0',
    holder: 'deploy',
    ttlSeconds: 600,
  },
  'POST /v1/leases/:leaseId/renew': { ttlSeconds: 600 },
  'PUT /v1/namespaces/:ns/policy': {},
  'PUT /v1/namespaces/:ns/webhooks': { webhooks: [] },
  'POST /v1/tokens': { name: 'web-ci', roles: { web: ['write'] } },
  // A well-formed envelope: the role is checked before its subjects are.
  'POST /v1/packages/:ns/:pkg/versions/:version/attestations': {
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'site.tgz', digest: { sha256: 'a'.repeat(64) } }],
        predicateType: 'https://cyclonedx.org/bom',
        predicate: {},
      }),
    ).toString('base64'),
    signatures: [{ sig: 'AA==' }],
  },
};

/**
 * Routes an authenticated caller with no role may use, and why: `whoami` shows a caller what Arca
 * makes of it (no roles), which is how "CD cannot pull" is debugged.
 */
const OPEN_TO_EVERY_CALLER: Record<string, string> = {
  'GET /v1/whoami': '200 undefined',
  // Lists the namespaces the caller can read: none, for a caller bound to nothing.
  'GET /v1/namespaces': '200 undefined',
};

/** Valid queries for the routes that require one, so a 403 cannot hide behind a 400. */
const REQUIRED_QUERIES: Record<string, string> = {
  'DELETE /v1/packages/:ns/:pkg/versions/:version': 'reason=sweep',
  'GET /v1/search': `sha256=${'a'.repeat(64)}`,
};

interface Fixtures {
  readonly uploadId: string;
  readonly leaseId: string;
  readonly tokenId: string;
}

/**
 * What every path parameter names: an open upload, a lease, and web/site@1.0.0 (available, promoted
 * to prod), all made by a named admin, so a route that looks its object up first still has one.
 */
async function fixtures(asAdmin: Call, backend: AwsBackend): Promise<Fixtures> {
  const data = content('authz', 2000);
  const committed = await publish(asAdmin, ADMIN, '1.0.0', data);
  await drain(backend);
  const commit = await asAdmin(apiEvent('POST', `/v1/uploads/${committed}/commit`, { authorizer: ADMIN }));
  expect(commit).toMatchObject({ status: 200, json: { state: 'available' } });
  const promote = apiEvent('POST', '/v1/packages/web/site/versions/1.0.0/promote', {
    authorizer: ADMIN,
    body: { stage: 'prod' },
  });
  expect((await asAdmin(promote)).status).toBe(200);
  const lease = await asAdmin(
    apiEvent('POST', '/v1/leases', { authorizer: ADMIN, body: REQUIRED_BODIES['POST /v1/leases'] }),
  );
  expect(lease.status).toBe(201);
  const uploadId = await publish(asAdmin, ADMIN, '1.1.0', data);
  // A rule for another repository: tokens for Arca's audience verify, and acme/other's match nothing.
  const trust = [
    { issuer: UNTRUSTED_OIDC.issuer, audience: 'arca', claims: { repository: 'acme/api' }, roles: ['read'] },
  ];
  const policy = apiEvent('PUT', '/v1/namespaces/api/policy', { authorizer: ADMIN, body: { trust } });
  expect((await asAdmin(policy)).status).toBe(200);
  const token = await asAdmin(
    apiEvent('POST', '/v1/tokens', { authorizer: ADMIN, body: REQUIRED_BODIES['POST /v1/tokens'] }),
  );
  expect(token.status).toBe(201);
  return { uploadId, leaseId: lease.json.leaseId as string, tokenId: token.json.id as string };
}

function requestFor(route: Route, ids: Fixtures, authorizer: AuthorizerContext) {
  const values: Record<string, string> = {
    ns: 'web',
    pkg: 'site',
    version: '1.0.0',
    stage: 'prod',
    name: 'site.tgz',
    uploadId: ids.uploadId,
    leaseId: ids.leaseId,
    id: ids.tokenId,
  };
  const path = route.path.replace(/:(\w+)\*?/g, (_, param: string) => {
    const value = values[param];
    if (value === undefined) throw new Error(`no fixture for :${param} of ${route.path}: add one`);
    return encodeURIComponent(value);
  });
  const key = `${route.method} ${route.path}`;
  const body = REQUIRED_BODIES[key];
  if (route.body && !route.body.optional && body === undefined)
    throw new Error(`no valid body for ${key}: add one to REQUIRED_BODIES`);
  return apiEvent(route.method, path, { authorizer, body, query: REQUIRED_QUERIES[key] });
}

describe('authorization on AWS fails closed', () => {
  it.each([
    ['an IAM caller', UNLISTED_IAM],
    ['an OIDC caller', UNTRUSTED_JWT],
  ])(
    'answers 403 to %s with no role binding on every route but health (defect: unlisted IAM callers were administrators)',
    async (_, caller) => {
      const { backend } = await motoBackend();
      // Nothing bound in any namespace policy; one named admin only to make the fixtures.
      const ids = await fixtures(handlerWith(backend, { ARCA_ADMIN_PRINCIPALS: ADMIN_ROLE }), backend);
      const call = handlerWith(backend, {}, oidc);

      const statuses: Record<string, string> = {};
      for (const route of routes.filter((r) => r.auth)) {
        const res = await call(requestFor(route, ids, caller));
        statuses[`${route.method} ${route.path}`] =
          `${res.status} ${(res.json.error as { code?: string })?.code}`;
      }
      const health = await call(apiEvent('GET', '/v1/health', { authorizer: caller }));

      expect(Object.keys(statuses).length).toBeGreaterThan(10);
      expect(statuses).toEqual(
        Object.fromEntries(
          Object.keys(statuses).map((key) => [key, OPEN_TO_EVERY_CALLER[key] ?? '403 Forbidden']),
        ),
      );
      expect(health.status).toBe(200);
    },
  );

  it('answers 401 to a request with no credential, or a bearer token that verifies to nothing', async () => {
    const { backend } = await motoBackend();
    const call = handlerWith(backend, {}, oidc);

    const answers = await Promise.all(
      [undefined, { bearer: 'eyJ.forged.sig' }, { bearer: `arca_${'0'.repeat(26)}_${'x'.repeat(43)}` }].map(
        (authorizer) => call(apiEvent('POST', '/v1/gc/plan', { authorizer })),
      ),
    );

    for (const res of answers)
      expect(res).toMatchObject({ status: 401, json: { error: { code: 'Unauthenticated' } } });
  });

  it('lets a named admin run GC, any session of its role, and no one else', async () => {
    const { backend } = await motoBackend();
    const call = handlerWith(backend, { ARCA_ADMIN_PRINCIPALS: ADMIN_ROLE });
    const bob = iamCaller('arn:aws:sts::123456789012:assumed-role/platform-admin/bob');
    const writer = iamCaller('arn:aws:sts::123456789012:assumed-role/ci/run-2');
    const bind = apiEvent('PUT', '/v1/namespaces/web/policy', {
      authorizer: ADMIN,
      body: { members: [{ principal: 'arn:aws:iam::123456789012:role/ci', roles: ['write'] }] },
    });
    expect((await call(bind)).status).toBe(200);

    const byAdmin = await call(apiEvent('POST', '/v1/gc/run', { authorizer: ADMIN }));
    const byOtherSession = await call(apiEvent('POST', '/v1/gc/plan', { authorizer: bob }));
    const byWriter = await call(apiEvent('POST', '/v1/gc/run', { authorizer: writer }));

    expect(byAdmin).toMatchObject({ status: 200, json: { deleted: expect.any(Object) } });
    expect(byOtherSession).toMatchObject({ status: 200, json: { actions: [] } });
    expect(byWriter).toMatchObject({ status: 403, json: { error: { code: 'Forbidden' } } });
  });

  it('verifies OIDC tokens with the jose verifier of ARCA_OIDC_ISSUERS, and names admins from ARCA_ADMIN_PRINCIPALS only', () => {
    const access = awsAccessFromEnv(
      { ARCA_OIDC_ISSUERS: 'https://token.actions.githubusercontent.com', ARCA_ADMIN_PRINCIPALS: ADMIN_ROLE },
      () => undefined,
    );

    expect(access.oidc).toBeInstanceOf(JoseOidcVerifier);
    expect([...access.admins]).toEqual([ADMIN_ROLE]);
  });

  it('reads the retired role maps no more: a cold start logs them and their callers hold no role', async () => {
    const { backend } = await motoBackend();
    const logged: string[] = [];
    const access = awsAccessFromEnv(
      {
        ARCA_IAM_ROLES: JSON.stringify({ '*': { roles: { '*': ['read', 'write', 'promote'] } } }),
        ARCA_JWT_ROLES: JSON.stringify({ '*': { roles: { web: ['read'] } } }),
      },
      (message) => logged.push(message),
    );
    const call = callerOf({ core: backend.deps, access });

    const read = await call(apiEvent('GET', '/v1/packages/web/site/versions', { authorizer: UNLISTED_IAM }));

    expect(read).toMatchObject({ status: 403, json: { error: { code: 'Forbidden' } } });
    expect(logged).toEqual([
      expect.stringMatching(/^ARCA_IAM_ROLES is no longer read .* members or trust rules/),
      expect.stringMatching(/^ARCA_JWT_ROLES is no longer read/),
    ]);
  });

  it.each([
    ['an administrator that is not an ARN', { ARCA_ADMIN_PRINCIPALS: '*' }],
    [
      'an administrator role ARN with a wildcard',
      { ARCA_ADMIN_PRINCIPALS: 'arn:aws:iam::123456789012:role/*' },
    ],
    ['an OIDC issuer over plain http', { ARCA_OIDC_ISSUERS: 'http://issuer.example' }],
    ['an OIDC issuer that is not a URL', { ARCA_OIDC_ISSUERS: 'token.actions.githubusercontent.com' }],
  ])('answers 500 to every request, health included, when the cold start rejects %s', async (_, bindings) => {
    // defaultDeps is what the Lambda runs: it parses the bindings before touching any resource.
    const call = callerOf(defaultDeps({ ARCA_BUCKET: 'unused', ARCA_TABLE: 'unused', ...bindings }));

    const answers = [
      await call(apiEvent('POST', '/v1/gc/run', { authorizer: UNLISTED_IAM })),
      await call(apiEvent('GET', '/v1/packages/web/site/versions', { authorizer: UNTRUSTED_JWT })),
      await call(apiEvent('GET', '/v1/health')),
    ];

    for (const res of answers)
      expect(res).toMatchObject({ status: 500, json: { error: { code: 'Internal' } } });
    expect(answers.every((res) => res.headers['x-request-id']?.startsWith('req-'))).toBe(true);
  });
});
