import { describe, expect, it } from 'vitest';
import {
  type AuthorizerContext,
  callerBindingsFrom,
  parseRoleMap,
  principalOf,
} from '../../functions/adapters/aws/lambdaPrincipal.ts';
import { content, sha256 } from '../support/fixtures.ts';
import {
  type Answer,
  drain,
  apiEvent as event,
  handlerWith,
  iamCaller,
  jwtCaller,
  motoBackend,
  publish as publishAs,
} from './apiEvents.ts';
import { intercept } from './awsFixtures.ts';
import { useMoto } from './moto.ts';
import { hashDownload } from './streams.ts';

useMoto();

const IAM_CI = iamCaller('arn:aws:sts::123456789012:assumed-role/ci/run-1');
const JWT_READER = jwtCaller('repo:acme/web:ref:main');

/** The handler these tests call: CI publishes to `web`, the acme/web workflows read it. */
async function setup() {
  const { clients, backend } = await motoBackend();
  const call = handlerWith(backend, {
    ARCA_IAM_ROLES: JSON.stringify({ 'arn:aws:iam::123456789012:role/ci': { roles: { web: ['write'] } } }),
    ARCA_JWT_ROLES: JSON.stringify({ 'repo:acme/web:*': { roles: { web: ['read'] } } }),
  });
  return { clients, backend, call };
}

const publish = (call: Parameters<typeof publishAs>[0], version: string, data: Buffer) =>
  publishAs(call, IAM_CI, version, data);

describe('API handler on API Gateway v2 events', () => {
  it('answers health without credentials, with the request id', async () => {
    const { call } = await setup();

    const res = await call(event('GET', '/v1/health'));

    expect(res).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(res.headers['x-request-id']).toMatch(/^req-/);
  });

  it('answers 401 in the error envelope when no authorizer vouched for the caller', async () => {
    const { call } = await setup();

    const res = await call(event('GET', '/v1/packages/web/site/versions'));

    expect(res).toMatchObject({ status: 401, json: { error: { code: 'Unauthenticated' } } });
  });

  it('publishes as an IAM caller: upload, scan through SQS, commit, then a redirect to the same bytes', async () => {
    const { backend, call } = await setup();
    const data = content('site', 30_000);
    const uploadId = await publish(call, '1.0.0', data);
    await drain(backend);

    const committed = await call(event('POST', `/v1/uploads/${uploadId}/commit`, { authorizer: IAM_CI }));
    const download = await call(
      event('GET', '/v1/packages/web/site/versions/1.0.0/files/site.tgz', { authorizer: IAM_CI }),
    );

    expect(committed).toMatchObject({
      status: 200,
      json: { state: 'available', createdBy: IAM_CI.iam!.userArn },
    });
    expect(download.status).toBe(302);
    expect(await hashDownload(download.headers.location!)).toMatchObject({
      status: 200,
      sha256: sha256(data),
    });
  });

  it('pages versions through signed cursors, newest first', async () => {
    const { backend, call } = await setup();
    const data = content('paged', 1000);
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      const uploadId = await publish(call, version, data);
      await drain(backend);
      expect(
        (await call(event('POST', `/v1/uploads/${uploadId}/commit`, { authorizer: IAM_CI }))).status,
      ).toBe(200);
    }

    const first = await call(
      event('GET', '/v1/packages/web/site/versions', { query: 'limit=2', authorizer: IAM_CI }),
    );
    const cursor = encodeURIComponent(first.json.nextCursor as string);
    const second = await call(
      event('GET', '/v1/packages/web/site/versions', {
        query: `limit=2&cursor=${cursor}`,
        authorizer: IAM_CI,
      }),
    );

    const names = (page: Answer) => (page.json.items as { version: string }[]).map((v) => v.version);
    expect(names(first)).toEqual(['1.2.0', '1.1.0']);
    expect(names(second)).toEqual(['1.0.0']);
    expect(second.json.nextCursor ?? null).toBeNull();
  });

  it('lets a JWT caller read its namespace but not publish to it', async () => {
    const { call } = await setup();

    const read = await call(event('GET', '/v1/packages/web/site/versions', { authorizer: JWT_READER }));
    const write = await call(
      event('POST', '/v1/uploads', {
        authorizer: JWT_READER,
        body: {
          namespace: 'web',
          package: 'site',
          version: '9.9.9',
          files: [{ name: 'a', size: 1, sha256: sha256('a') }],
        },
      }),
    );

    expect(read.status).toBe(200);
    expect(write).toMatchObject({ status: 403, json: { error: { code: 'Forbidden' } } });
  });

  it('refuses a body over 1 MiB with 413 TooLarge', async () => {
    const { call } = await setup();

    const res = await call(
      event('POST', '/v1/uploads', { authorizer: IAM_CI, body: { pad: 'x'.repeat(1024 * 1024) } }),
    );

    expect(res).toMatchObject({ status: 413, json: { error: { code: 'TooLarge' } } });
  });

  it('answers the same Version when a commit is retried after a timeout that hid its success', async () => {
    const { clients, backend, call } = await setup();
    const uploadId = await publish(call, '2.0.0', content('timeout', 500));
    await drain(backend);
    let timedOut = false;
    intercept(clients.dynamodb, 'TransactWriteItemsCommand', async (send, _call, input) => {
      const result = await send();
      const isCommit = ((input as { TransactItems?: unknown[] }).TransactItems?.length ?? 0) >= 4;
      if (isCommit && !timedOut) {
        timedOut = true;
        throw Object.assign(new Error('socket timed out after the write'), { name: 'TimeoutError' });
      }
      return result;
    });

    const lost = await call(event('POST', `/v1/uploads/${uploadId}/commit`, { authorizer: IAM_CI }));
    const retried = await call(event('POST', `/v1/uploads/${uploadId}/commit`, { authorizer: IAM_CI }));
    const again = await call(event('POST', `/v1/uploads/${uploadId}/commit`, { authorizer: IAM_CI }));

    expect(lost).toMatchObject({ status: 500, json: { error: { code: 'Internal' } } });
    expect(retried).toMatchObject({ status: 200, json: { version: '2.0.0', state: 'available' } });
    expect(again.json).toEqual(retried.json);
  });
});

describe('principalOf', () => {
  const bindings = (env: Record<string, string>) => callerBindingsFrom(env);

  it('gives an IAM caller missing from the role map no role and no admin (defect: unlisted IAM callers were administrators)', () => {
    const mapped = bindings({
      ARCA_IAM_ROLES: JSON.stringify({ 'arn:aws:iam::123456789012:role/ci': { roles: { web: ['write'] } } }),
    });
    const ops: AuthorizerContext = { iam: { userArn: 'arn:aws:iam::123456789012:user/ops' } };

    expect(principalOf(IAM_CI, mapped)).toEqual({
      id: IAM_CI.iam!.userArn,
      kind: 'iam',
      admin: false,
      roles: { web: ['write'] },
    });
    expect(principalOf(ops, mapped)).toEqual({ id: ops.iam!.userArn, kind: 'iam', admin: false, roles: {} });
    expect(principalOf(ops, bindings({}))).toEqual({
      id: ops.iam!.userArn,
      kind: 'iam',
      admin: false,
      roles: {},
    });
    expect(principalOf(undefined, mapped)).toBeNull();
  });

  it('makes admins only of the principals named, a role ARN matching its sessions whatever its path', () => {
    const named = bindings({
      ARCA_ADMIN_PRINCIPALS:
        'arn:aws:iam::123456789012:role/platform/break-glass, arn:aws:iam::123456789012:user/ops',
    });

    const session = iamCaller('arn:aws:sts::123456789012:assumed-role/break-glass/alice');
    expect(principalOf(session, named)).toMatchObject({ admin: true, roles: {} });
    expect(principalOf(iamCaller('arn:aws:iam::123456789012:user/ops'), named)).toMatchObject({
      admin: true,
    });
    expect(principalOf(IAM_CI, named)).toMatchObject({ admin: false, roles: {} });
    expect(principalOf(iamCaller('arn:aws:iam::999999999999:user/ops'), named)).toMatchObject({
      admin: false,
    });
  });

  it('gives an unmapped JWT subject no role at all', () => {
    const principal = principalOf({ jwt: { claims: { sub: 'repo:other/repo:ref:main' } } }, bindings({}));

    expect(principal).toEqual({ id: 'repo:other/repo:ref:main', kind: 'oidc', admin: false, roles: {} });
  });

  it('refuses at parse time any role map entry that would make an admin', () => {
    const parse = (map: unknown) => () => parseRoleMap('ARCA_IAM_ROLES', JSON.stringify(map));

    expect(parse({ '*': { admin: true } })).toThrow(/ARCA_ADMIN_PRINCIPALS/);
    expect(parse({ 'arn:aws:iam::123456789012:role/ops': { admin: true } })).toThrow(/may not set "admin"/);
    expect(parse({ '*': { roles: { '*': ['admin'] } } })).toThrow(/may not grant the admin role/);
    expect(parse({ '*': { roles: { web: ['admin'] } } })).toThrow(/may not grant the admin role/);
    expect(parse({ x: { roles: { web: ['owner'] } } })).toThrow(/list of read, write, promote, admin/);
    expect(parse({ x: { roles: { 'Not A Namespace': ['read'] } } })).toThrow(/invalid namespace/);
    expect(parse({ x: { roles: { web: ['read'] }, extra: 1 } })).toThrow(/unknown fields: extra/);
    expect(parse({ '*': { roles: { '*': ['read', 'write', 'promote'] } } })).not.toThrow();
  });

  it('refuses an administrator that is not an IAM role, user or session ARN', () => {
    const admins = (raw: string) => () => callerBindingsFrom({ ARCA_ADMIN_PRINCIPALS: raw });

    expect(admins('*')).toThrow(/ARCA_ADMIN_PRINCIPALS: '\*' is not an IAM/);
    expect(admins('arn:aws:iam::123456789012:role/*')).toThrow(/not an IAM/);
    expect(admins('123456789012')).toThrow(/not an IAM/);
    expect(admins('arn:aws:iam::123456789012:root')).toThrow(/not an IAM/);
  });
});
