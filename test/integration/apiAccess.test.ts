import { describe, expect, it } from 'vitest';
import type { VerifiedToken } from '../../functions/core/access.ts';
import { sha256 } from '../support/fixtures.ts';
import { apiEvent, fixedOidc, handlerWith, iamCaller, motoBackend } from './apiEvents.ts';
import { useMoto } from './moto.ts';

useMoto();

const ADMIN_ROLE = 'arn:aws:iam::123456789012:role/platform-admin';
const ADMIN = iamCaller('arn:aws:sts::123456789012:assumed-role/platform-admin/alice');
const READER_ROLE = 'arn:aws:iam::123456789012:role/deploy/reader';
const READER = iamCaller('arn:aws:sts::123456789012:assumed-role/reader/deploy-42');
const STRANGER = iamCaller('arn:aws:sts::123456789012:assumed-role/stranger/s1');
const ISSUER = 'https://token.actions.githubusercontent.com';

const upload = (namespace: string) => ({
  namespace,
  package: 'site',
  version: '1.0.0',
  files: [{ name: 'site.tgz', size: 1, sha256: sha256('a') }],
});

/** GitHub Actions' token for a run of acme/web on `ref`, as the OIDC verifier returns it. */
const githubToken = (repository: string, ref: string): VerifiedToken => ({
  issuer: ISSUER,
  subject: `repo:${repository}:ref:${ref}`,
  audiences: ['arca'],
  claims: { repository, ref, workflow: 'release', sha: 'f'.repeat(40), run_id: '812' },
});

/** A store with one named admin, whose OIDC verifier knows `tokens`. */
async function store(tokens: Record<string, VerifiedToken> = {}) {
  const { backend } = await motoBackend();
  const call = handlerWith(backend, { ARCA_ADMIN_PRINCIPALS: ADMIN_ROLE }, fixedOidc(tokens));
  const putPolicy = async (namespace: string, policy: unknown) => {
    const put = apiEvent('PUT', `/v1/namespaces/${namespace}/policy`, { authorizer: ADMIN, body: policy });
    expect((await call(put)).status).toBe(200);
  };
  return { call, putPolicy };
}

describe('IAM principals bound in namespace policies (SigV4 API)', () => {
  it('lets a role bound to read in `web` read there, not write there, and nothing elsewhere', async () => {
    const { call, putPolicy } = await store();
    await putPolicy('web', { members: [{ principal: READER_ROLE, roles: ['read'] }] });

    const read = await call(apiEvent('GET', '/v1/packages/web/site/versions', { authorizer: READER }));
    const write = await call(apiEvent('POST', '/v1/uploads', { authorizer: READER, body: upload('web') }));
    const other = await call(apiEvent('GET', '/v1/packages/api/site/versions', { authorizer: READER }));
    const whoami = await call(apiEvent('GET', '/v1/whoami', { authorizer: READER }));

    expect(read).toMatchObject({ status: 200, json: { items: [] } });
    expect(write).toMatchObject({ status: 403, json: { error: { code: 'Forbidden' } } });
    expect(other.status).toBe(403);
    expect(whoami.json).toMatchObject({ kind: 'iam', admin: false, roles: { web: ['read'] } });
  });

  it('answers 403 to a role bound nowhere, and to a bound one once its binding is removed', async () => {
    const { call, putPolicy } = await store();
    await putPolicy('web', { members: [{ principal: READER_ROLE, roles: ['read'] }] });
    const list = (authorizer: typeof READER) =>
      call(apiEvent('GET', '/v1/packages/web/site/versions', { authorizer }));

    const stranger = await list(STRANGER);
    const before = await list(READER);
    await putPolicy('web', { members: [] });
    const after = await list(READER);

    expect(stranger).toMatchObject({ status: 403, json: { error: { code: 'Forbidden' } } });
    expect([before.status, after.status]).toEqual([200, 403]);
  });

  it('refuses a binding from a caller who does not administer the namespace', async () => {
    const { call, putPolicy } = await store();
    await putPolicy('web', { members: [{ principal: READER_ROLE, roles: ['read'] }] });

    const put = await call(
      apiEvent('PUT', '/v1/namespaces/web/policy', {
        authorizer: READER,
        body: { members: [{ principal: READER_ROLE, roles: ['admin'] }] },
      }),
    );

    expect(put).toMatchObject({ status: 403, json: { error: { code: 'Forbidden' } } });
  });
});

describe('OIDC tokens on the bearer API', () => {
  const MAIN = 'eyJ.main.sig';
  const FORK = 'eyJ.fork.sig';
  const ELSEWHERE = 'eyJ.other-audience.sig';
  const tokens = {
    [MAIN]: githubToken('acme/web', 'refs/heads/main'),
    [FORK]: githubToken('evil/web', 'refs/heads/main'),
    [ELSEWHERE]: { ...githubToken('acme/web', 'refs/heads/main'), audiences: ['sts.amazonaws.com'] },
  };
  const trust = [
    {
      issuer: ISSUER,
      audience: 'arca',
      claims: { repository: 'acme/web', ref: 'refs/heads/*' },
      roles: ['write', 'promote'],
      stages: ['dev'],
    },
  ];

  it('gives a token the roles of the trust rule its claims match, and keeps its CI claims', async () => {
    const { call, putPolicy } = await store(tokens);
    await putPolicy('web', { stages: ['dev', 'prod'], trust });

    const whoami = await call(apiEvent('GET', '/v1/whoami', { authorizer: { bearer: MAIN } }));
    const created = await call(
      apiEvent('POST', '/v1/uploads', { authorizer: { bearer: MAIN }, body: upload('web') }),
    );
    const elsewhere = await call(
      apiEvent('POST', '/v1/uploads', { authorizer: { bearer: MAIN }, body: upload('api') }),
    );

    expect(whoami).toMatchObject({
      status: 200,
      json: {
        kind: 'oidc',
        admin: false,
        roles: { web: ['write', 'promote'] },
        promoteStages: { web: ['dev'] },
        claims: { iss: ISSUER, repository: 'acme/web', workflow: 'release', run_id: '812' },
      },
    });
    expect(created.status).toBe(201);
    expect(elsewhere).toMatchObject({ status: 403, json: { error: { code: 'Forbidden' } } });
  });

  it('answers 403 to a valid token no rule matches, 401 to one for another audience or that does not verify', async () => {
    const { call, putPolicy } = await store(tokens);
    await putPolicy('web', { trust });

    const fork = await call(
      apiEvent('GET', '/v1/packages/web/site/versions', { authorizer: { bearer: FORK } }),
    );
    const forged = await call(
      apiEvent('GET', '/v1/packages/web/site/versions', { authorizer: { bearer: 'eyJ.forged.sig' } }),
    );
    const elsewhere = await call(
      apiEvent('GET', '/v1/packages/web/site/versions', { authorizer: { bearer: ELSEWHERE } }),
    );

    expect(fork).toMatchObject({ status: 403, json: { error: { code: 'Forbidden' } } });
    expect(forged).toMatchObject({ status: 401, json: { error: { code: 'Unauthenticated' } } });
    expect(elsewhere).toMatchObject({ status: 401, json: { error: { code: 'Unauthenticated' } } });
  });
});

describe('Arca tokens on the bearer API', () => {
  it('authenticates a token minted by an IAM admin, and answers 401 once it is revoked', async () => {
    const { call } = await store();
    const minted = await call(
      apiEvent('POST', '/v1/tokens', {
        authorizer: ADMIN,
        body: { name: 'cd-web', roles: { web: ['read'] }, ttlSeconds: 3600 },
      }),
    );
    expect(minted.status).toBe(201);
    const bearer = { bearer: minted.json.token as string };

    const read = await call(apiEvent('GET', '/v1/packages/web/site/versions', { authorizer: bearer }));
    const write = await call(apiEvent('POST', '/v1/uploads', { authorizer: bearer, body: upload('web') }));
    const revoked = await call(
      apiEvent('DELETE', `/v1/tokens/${minted.json.id as string}`, { authorizer: ADMIN }),
    );
    const after = await call(apiEvent('GET', '/v1/packages/web/site/versions', { authorizer: bearer }));

    expect(read).toMatchObject({ status: 200, json: { items: [] } });
    expect(write.status).toBe(403);
    expect(revoked.status).toBe(204);
    expect(after).toMatchObject({ status: 401, json: { error: { code: 'Unauthenticated' } } });
  });

  it('never takes a bearer token on a request the IAM authorizer vouched for', async () => {
    const { call } = await store();
    const minted = await call(
      apiEvent('POST', '/v1/tokens', {
        authorizer: ADMIN,
        body: { name: 'ops', roles: { web: ['admin'] }, ttlSeconds: 3600 },
      }),
    );
    const event = apiEvent('GET', '/v1/whoami', { authorizer: STRANGER });
    const withBoth = {
      ...event,
      headers: { ...event.headers, authorization: `Bearer ${minted.json.token}` },
    };

    const whoami = await call(withBoth);

    expect(whoami.json).toMatchObject({ id: STRANGER.iam!.userArn, kind: 'iam', roles: {} });
  });
});
