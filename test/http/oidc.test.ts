import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JoseOidcVerifier } from '../../functions/adapters/oidc/joseOidcVerifier.ts';
import { call, createUpload, publish, settled } from '../support/client.ts';
import { content } from '../support/fixtures.ts';
import { TestIssuer } from '../support/oidcIssuer.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

describeForEachBackend('OIDC keyless publishing', (kind) => {
  let s: TestServer;
  let issuer: TestIssuer;
  let stranger: TestIssuer;
  const ns = 'payments';
  const versionPath = (version: string) => `/v1/packages/${ns}/app/versions/${version}`;
  const tryPublish = (token: string, version: string) =>
    createUpload(s.url, { namespace: ns, version, files: { 'a.bin': content(version) }, token });

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    stranger = await TestIssuer.start();
    s = await startTestServer(kind, { oidcIssuers: [issuer.url] });
    const policy = await call(s.url, 'PUT', `/v1/namespaces/${ns}/policy`, {
      trust: [
        {
          issuer: issuer.url,
          audience: 'arca',
          claims: { repository: 'org/payments', ref: 'refs/heads/*' },
          roles: ['write', 'promote'],
          stages: ['dev'],
        },
      ],
    });
    expect(policy.status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
    await issuer?.close();
    await stranger?.close();
  });

  it('publishes with a token matching a trust rule, and the audit event and version show its repository and workflow', async () => {
    const token = await issuer.sign({ workflow: 'release-payments', run_id: '4242' });
    const published = await publish(s.url, {
      namespace: ns,
      version: '1.0.0',
      files: { 'a.bin': content('oidc-1') },
      token,
    });
    expect(published.status).toBe(200);
    const principalId = `oidc:${issuer.url}#repo:org/payments:ref:refs/heads/main`;
    expect(published.body.createdBy).toBe(principalId);

    const version = await call(s.url, 'GET', versionPath('1.0.0'));
    expect(version.body.publisher).toEqual({
      id: principalId,
      kind: 'oidc',
      claims: expect.objectContaining({
        iss: issuer.url,
        repository: 'org/payments',
        workflow: 'release-payments',
        ref: 'refs/heads/main',
        run_id: '4242',
      }),
    });

    const audit = await call(s.url, 'GET', `/v1/audit?namespace=${ns}`);
    const events = audit.body.items.filter(
      (e: { target: string; action: string }) =>
        e.target === `${ns}/app@1.0.0` && e.action.startsWith('upload.'),
    );
    expect(events.map((e: { action: string }) => e.action).sort()).toEqual([
      'upload.commit',
      'upload.create',
    ]);
    for (const event of events) {
      expect(event.actor).toBe(principalId);
      expect(event.details.claims).toMatchObject({
        repository: 'org/payments',
        workflow: 'release-payments',
      });
    }
  });

  it('accepts a token signed by the EC key and names the caller oidc in whoami', async () => {
    const token = await issuer.sign({}, { kid: issuer.kidOf('ES256') });
    const whoami = await call(s.url, 'GET', '/v1/whoami', undefined, token);
    expect(whoami.status).toBe(200);
    expect(whoami.body).toMatchObject({
      kind: 'oidc',
      admin: false,
      roles: { [ns]: ['write', 'promote'] },
      claims: { repository: 'org/payments' },
    });
  });

  it('verifies a token signed by a key the issuer publishes later, once its JWKS lists it', async () => {
    const kid = await issuer.addKey('ES256', false);
    const token = await issuer.sign({}, { kid });
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, token)).status).toBe(401);
    issuer.publish(kid);
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, token)).status).toBe(200);
  });

  it('fetches the JWKS once for many tokens signed by known keys', async () => {
    const token = await issuer.sign();
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, token)).status).toBe(200);
    const before = issuer.jwksRequests;
    for (let i = 0; i < 3; i++)
      expect((await call(s.url, 'GET', '/v1/whoami', undefined, await issuer.sign())).status).toBe(200);
    expect(issuer.jwksRequests).toBe(before);
  });

  describe('answers 401 to a token that does not verify', () => {
    const forged: Record<string, () => Promise<string>> = {
      'for another audience': () => issuer.sign({ aud: 'someone-else' }),
      'that expired': () => issuer.sign({}, { iat: -600, exp: -120 }),
      'that is not yet valid': () => issuer.sign({}, { nbf: 300 }),
      'issued in the future': () => issuer.sign({}, { iat: 300, exp: 900 }),
      'whose claims were altered after signing': async () => {
        const [header, , signature] = (await issuer.sign()).split('.');
        const altered = (await issuer.sign({ repository: 'org/payments', sha: 'evil' })).split('.')[1];
        return `${header}.${altered}.${signature}`;
      },
      'with alg none': async () => issuer.unsigned(),
      'signed HS256 with the public key as the secret': () => issuer.signedWithPublicKeyAsSecret(),
      'signed by a key the JWKS does not list': async () =>
        issuer.sign({}, { kid: await issuer.addKey('RS256', false) }),
      'from an issuer the store does not trust': () => stranger.sign(),
      'naming a trusted issuer but signed by another': () => stranger.sign({ iss: issuer.url }),
    };
    for (const [what, token] of Object.entries(forged)) {
      it(`${what}`, async () => {
        const answer = await tryPublish(await token(), '9.0.0');
        expect(answer.status).toBe(401);
        expect(answer.body.error.code).toBe('Unauthenticated');
      });
    }
  });

  it('answers 403 to a valid token whose claims match no trust rule', async () => {
    const token = await issuer.sign({ repository: 'org/other', sub: 'repo:org/other:ref:refs/heads/main' });
    expect((await call(s.url, 'GET', '/v1/whoami', undefined, token)).body.roles).toEqual({});
    expect((await tryPublish(token, '2.0.0')).status).toBe(403);
  });

  it('lets a rule limited to dev promote to dev and not to prod', async () => {
    const token = await issuer.sign();
    expect(
      (
        await publish(s.url, {
          namespace: ns,
          version: '3.0.0',
          files: { 'a.bin': content('oidc-3') },
          token,
        })
      ).status,
    ).toBe(200);
    expect((await settled(s.url, versionPath('3.0.0'))).body.state).toBe('available');
    const promote = (stage: string) =>
      call(s.url, 'POST', `${versionPath('3.0.0')}/promote`, { stage }, token);
    expect((await promote('dev')).status).toBe(200);
    expect((await promote('prod')).status).toBe(403);
  });

  it('applies a trust rule removed from the policy to the next request', async () => {
    const other = 'ledger';
    const rule = {
      issuer: issuer.url,
      audience: 'arca',
      claims: { repository: 'org/payments' },
      roles: ['read'],
    };
    await call(s.url, 'PUT', `/v1/namespaces/${other}/policy`, { trust: [rule] });
    const token = await issuer.sign();
    const read = () => call(s.url, 'GET', `/v1/packages/${other}/app/versions`, undefined, token);
    expect((await read()).status).toBe(200);
    await call(s.url, 'PUT', `/v1/namespaces/${other}/policy`, { trust: [] });
    expect((await read()).status).toBe(403);
  });
});

describe('JoseOidcVerifier', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await TestIssuer.start();
  });
  afterAll(async () => issuer?.close());

  it('refuses at start-up an http issuer off loopback and a clock tolerance above 60 s', () => {
    expect(() => new JoseOidcVerifier({ issuers: ['http://issuer.example.com'] })).toThrow(/must be https/);
    expect(() => new JoseOidcVerifier({ issuers: ['https://a.example'], clockToleranceSeconds: 61 })).toThrow(
      /tolerance/,
    );
    expect(() => new JoseOidcVerifier({ issuers: ['http://[::1]:8080', 'https://a.example'] })).not.toThrow();
  });

  it('returns null and logs a line when the issuer cannot be reached', async () => {
    const lines: Record<string, unknown>[] = [];
    const closed = await TestIssuer.start();
    await closed.close();
    const verifier = new JoseOidcVerifier({ issuers: [closed.url], log: (l) => lines.push(l) });
    expect(await verifier.verify(await closed.sign())).toBeNull();
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', issuer: closed.url })]);
  });

  it('returns null when the discovery document names another issuer', async () => {
    const lines: Record<string, unknown>[] = [];
    const alias = issuer.url.replace('127.0.0.1', 'localhost');
    const verifier = new JoseOidcVerifier({ issuers: [alias], log: (l) => lines.push(l) });
    expect(await verifier.verify(await issuer.sign({ iss: alias }))).toBeNull();
    expect(String(lines[0]?.error)).toMatch(/names issuer/);
  });

  it('returns null, without a log line, for text that is not a JWT at all', async () => {
    const lines: unknown[] = [];
    const verifier = new JoseOidcVerifier({ issuers: [issuer.url], log: (l) => lines.push(l) });
    expect(await verifier.verify('a.b.c')).toBeNull();
    expect(lines).toEqual([]);
  });
});
