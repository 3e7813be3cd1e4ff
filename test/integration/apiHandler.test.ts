import { describe, expect, it } from 'vitest';
import { iamPrincipal, parseAdminPrincipals } from '../../functions/adapters/aws/lambdaPrincipal.ts';
import type { NamespacePolicy } from '../../functions/core/model.ts';
import { DEFAULT_POLICY } from '../../functions/core/model.ts';
import { content, sha256 } from '../support/fixtures.ts';
import {
  type Answer,
  drain,
  apiEvent as event,
  fixedOidc,
  handlerWith,
  iamCaller,
  motoBackend,
  publish as publishAs,
} from './apiEvents.ts';
import { intercept } from './awsFixtures.ts';
import { useMoto } from './moto.ts';
import { hashDownload } from './streams.ts';

useMoto();

const ADMIN_ROLE = 'arn:aws:iam::123456789012:role/platform-admin';
const ADMIN = iamCaller('arn:aws:sts::123456789012:assumed-role/platform-admin/alice');
const IAM_CI = iamCaller('arn:aws:sts::123456789012:assumed-role/ci/run-1');
const ISSUER = 'https://token.actions.githubusercontent.com';
const JWT_READER = { bearer: 'eyJ.acme-web.sig' };
const oidc = fixedOidc({
  [JWT_READER.bearer]: {
    issuer: ISSUER,
    subject: 'repo:acme/web:ref:refs/heads/main',
    audiences: ['arca'],
    claims: { repository: 'acme/web', ref: 'refs/heads/main' },
  },
});

/**
 * The handler these tests call: the `web` policy, put by a named admin, binds the CI role to
 * `write` and trusts the acme/web workflows' OIDC tokens to `read`.
 */
async function setup() {
  const { clients, backend } = await motoBackend();
  const call = handlerWith(backend, { ARCA_ADMIN_PRINCIPALS: ADMIN_ROLE }, oidc);
  const policy = {
    members: [{ principal: 'arn:aws:iam::123456789012:role/ci', roles: ['write'] }],
    trust: [{ issuer: ISSUER, audience: 'arca', claims: { repository: 'acme/web' }, roles: ['read'] }],
  };
  const put = await call(event('PUT', '/v1/namespaces/web/policy', { authorizer: ADMIN, body: policy }));
  expect(put.status).toBe(200);
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

  it('serves a file by its path name from the raw path, its slashes plain or encoded', async () => {
    const { backend, call } = await setup();
    const data = content('tree', 5000);
    const name = 'dist/js/app.js';
    const body = {
      namespace: 'web',
      package: 'site',
      version: '2.0.0',
      files: [{ name, size: data.length, sha256: sha256(data) }],
    };
    const created = await call(event('POST', '/v1/uploads', { authorizer: IAM_CI, body }));
    const [file] = created.json.files as { upload: { url: string; headers: Record<string, string> } }[];
    const upload = file!.upload;
    expect((await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: data })).status).toBe(
      200,
    );
    await drain(backend);
    const uploadId = created.json.uploadId as string;
    expect((await call(event('POST', `/v1/uploads/${uploadId}/commit`, { authorizer: IAM_CI }))).status).toBe(
      200,
    );

    for (const path of ['dist/js/app.js', 'dist%2Fjs%2Fapp.js']) {
      const download = await call(
        event('GET', `/v1/packages/web/site/versions/2.0.0/files/${path}`, { authorizer: IAM_CI }),
      );
      expect(download.status, path).toBe(302);
      expect(await hashDownload(download.headers.location!)).toMatchObject({
        status: 200,
        sha256: sha256(data),
      });
    }
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

  it('lets an OIDC caller read its namespace but not publish to it', async () => {
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

describe('iamPrincipal', () => {
  const policies = (members: NamespacePolicy['members'], namespace = 'web') =>
    new Map([[namespace, { ...DEFAULT_POLICY, members }]]);
  const noAdmins = parseAdminPrincipals('admins', '');

  it('gives a session the roles its role ARN is bound to, whatever the role’s path, and no admin', () => {
    const bound = policies([
      { principal: 'arn:aws:iam::123456789012:role/build/ci', roles: ['write', 'promote'], stages: ['dev'] },
    ]);

    expect(iamPrincipal(IAM_CI.iam!.userArn!, noAdmins, bound)).toEqual({
      id: IAM_CI.iam!.userArn,
      kind: 'iam',
      admin: false,
      roles: { web: ['write', 'promote'] },
      promoteStages: { web: ['dev'] },
    });
  });

  it('gives an IAM caller bound nowhere no role and no admin (defect: unlisted IAM callers were administrators)', () => {
    const ops = 'arn:aws:iam::123456789012:user/ops';
    const bound = policies([{ principal: 'arn:aws:iam::123456789012:role/ci', roles: ['write'] }]);

    expect(iamPrincipal(ops, noAdmins, bound)).toEqual({ id: ops, kind: 'iam', admin: false, roles: {} });
    expect(iamPrincipal(ops, noAdmins, new Map())).toEqual({ id: ops, kind: 'iam', admin: false, roles: {} });
    expect(iamPrincipal('arn:aws:sts::999999999999:assumed-role/ci/x', noAdmins, bound).roles).toEqual({});
  });

  it('makes admins only of the principals named, a role ARN matching its sessions whatever its path', () => {
    const named = parseAdminPrincipals(
      'ARCA_ADMIN_PRINCIPALS',
      'arn:aws:iam::123456789012:role/platform/break-glass, arn:aws:iam::123456789012:user/ops',
    );
    const session = 'arn:aws:sts::123456789012:assumed-role/break-glass/alice';

    expect(iamPrincipal(session, named, new Map())).toMatchObject({ admin: true, roles: {} });
    expect(iamPrincipal('arn:aws:iam::123456789012:user/ops', named, new Map())).toMatchObject({
      admin: true,
    });
    expect(iamPrincipal(IAM_CI.iam!.userArn!, named, new Map())).toMatchObject({ admin: false });
    expect(iamPrincipal('arn:aws:iam::999999999999:user/ops', named, new Map())).toMatchObject({
      admin: false,
    });
  });

  it('refuses an administrator that is not an IAM role, user or session ARN', () => {
    const admins = (raw: string) => () => parseAdminPrincipals('ARCA_ADMIN_PRINCIPALS', raw);

    expect(admins('*')).toThrow(/ARCA_ADMIN_PRINCIPALS: '\*' is not an IAM/);
    expect(admins('arn:aws:iam::123456789012:role/*')).toThrow(/not an IAM/);
    expect(admins('123456789012')).toThrow(/not an IAM/);
    expect(admins('arn:aws:iam::123456789012:root')).toThrow(/not an IAM/);
  });
});
