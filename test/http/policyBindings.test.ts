import { afterAll, beforeAll, expect, it } from 'vitest';
import { call } from '../support/client.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const rule = { issuer: GITHUB, audience: 'arca', claims: { repository: 'org/x' }, roles: ['write'] };
const member = { principal: 'arn:aws:iam::123456789012:role/deploy', roles: ['read'] };

describeForEachBackend('trust rules and IAM members in a namespace policy', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s?.close());
  const put = (body: unknown) => call(s.url, 'PUT', '/v1/namespaces/bound/policy', body);

  it('stores valid ones and answers them back', async () => {
    const body = { stages: ['dev', 'prod'], trust: [{ ...rule, stages: ['dev'] }], members: [member] };
    expect((await put(body)).status).toBe(200);
    const got = await call(s.url, 'GET', '/v1/namespaces/bound/policy');
    expect(got.body).toMatchObject({ trust: [{ ...rule, stages: ['dev'] }], members: [member] });
  });

  it('refuses malformed trust rules and members with 400 naming the field, and changes nothing', async () => {
    const before = await s.snapshot();
    const bad: [unknown, string][] = [
      [{ trust: [{ ...rule, issuer: 'http://issuer.example.com' }] }, 'trust.0.issuer'],
      [{ trust: [{ ...rule, issuer: 'not a url' }] }, 'trust.0.issuer'],
      [{ trust: [{ ...rule, audience: '' }] }, 'trust.0.audience'],
      [{ trust: [{ ...rule, roles: [] }] }, 'trust.0.roles'],
      [{ trust: [{ ...rule, roles: ['owner'] }] }, 'trust.0.roles'],
      [{ trust: [{ ...rule, claims: { 'bad claim': 'x' } }] }, 'trust.0.claims'],
      [{ trust: [{ ...rule, subject: 'x' }] }, 'trust.0'],
      [{ members: [{ ...member, principal: 'arn:aws:s3:::bucket' }] }, 'members.0.principal'],
      [{ members: [{ ...member, principal: '*' }] }, 'members.0.principal'],
      [{ members: [{ ...member, roles: ['read', 'read'] }] }, 'members.0.roles'],
      [{ stages: ['dev'], trust: [{ ...rule, stages: ['prod'] }] }, 'trust[0].stages'],
      [{ stages: ['dev'], members: [{ ...member, stages: ['prod'] }] }, 'members[0].stages'],
    ];
    for (const [body, field] of bad) {
      const res = await put(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('InvalidRequest');
      expect(JSON.stringify(res.body.error), JSON.stringify(body)).toContain(field);
    }
    expect(await s.snapshot()).toEqual(before);
  });
});
