import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type AwsBackend, createAwsBackend } from '../../functions/adapters/aws/awsBackend.ts';
import type { AwsClients } from '../../functions/adapters/aws/clients.ts';
import {
  type AuthorizerContext,
  parseRoleMap,
  principalOf,
} from '../../functions/adapters/aws/lambdaPrincipal.ts';
import { type ApiEvent, createHandler } from '../../functions/handlers/api.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { freshResources, intercept, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';
import { hashDownload } from './streams.ts';

useMoto();

const IAM_CI: AuthorizerContext = { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/ci/run-1' } };
const JWT_READER: AuthorizerContext = {
  jwt: { claims: { iss: 'https://token.example', sub: 'repo:acme/web:ref:main' } },
};
let requests = 0;

function event(
  method: string,
  path: string,
  options: { body?: unknown; query?: string; authorizer?: AuthorizerContext } = {},
): ApiEvent {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: Buffer.from(body).toString('base64') }),
    isBase64Encoded: true,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: `req-${++requests}`,
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  json: Record<string, unknown>;
}

async function setup(): Promise<{
  clients: AwsClients;
  backend: AwsBackend;
  call: (e: ApiEvent) => Promise<Answer>;
}> {
  const clients = motoClients();
  const resources = await freshResources(clients);
  const env = {
    ...process.env,
    ARCA_BUCKET: resources.bucket,
    ARCA_TABLE: resources.table,
    ARCA_SCAN_QUEUE: resources.scanQueue,
    ARCA_CURSOR_SECRET: 'api-test-secret',
  };
  const logger = new Logger({ logLevel: 'SILENT' });
  const backend = await createAwsBackend(env, { clients, logger, startPoller: false });
  const roles = {
    iam: parseRoleMap('iam', undefined),
    jwt: parseRoleMap('jwt', JSON.stringify({ 'repo:acme/web:*': { roles: { web: ['read'] } } })),
  };
  const handler = createHandler({ core: backend.deps, roles }, { logger });
  const call = async (e: ApiEvent): Promise<Answer> => {
    const result = (await handler(e, {} as Context)) as APIGatewayProxyStructuredResultV2;
    return {
      status: result.statusCode!,
      headers: result.headers as Record<string, string>,
      json: result.body ? JSON.parse(result.body) : {},
    };
  };
  return { clients, backend, call };
}

async function drain(backend: AwsBackend) {
  for (let round = 0; round < 20; round++) if ((await backend.poller.pollOnce(0)) === 0) return;
}

/** Creates an upload of `data` as version `version` of web/site and PUTs the bytes it asks for. */
async function publish(call: (e: ApiEvent) => Promise<Answer>, version: string, data: Buffer) {
  const created = await call(
    event('POST', '/v1/uploads', {
      authorizer: IAM_CI,
      body: {
        namespace: 'web',
        package: 'site',
        version,
        files: [{ name: 'site.tgz', size: data.length, sha256: sha256(data) }],
      },
    }),
  );
  expect(created.status).toBe(201);
  const file = (
    created.json.files as { action: string; upload?: { url: string; headers: Record<string, string> } }[]
  )[0]!;
  if (file.action === 'upload') {
    const put = await fetch(file.upload!.url, { method: 'PUT', headers: file.upload!.headers, body: data });
    expect(put.status).toBe(200);
  }
  return created.json.uploadId as string;
}

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
  it('makes IAM callers admins unless ARCA_IAM_ROLES maps their role', () => {
    const iam = parseRoleMap(
      'iam',
      JSON.stringify({ 'arn:aws:iam::123456789012:role/ci': { roles: { web: ['write'] } } }),
    );
    const maps = { iam, jwt: new Map() };

    expect(principalOf(IAM_CI, maps)).toEqual({
      id: IAM_CI.iam!.userArn,
      admin: false,
      roles: { web: ['write'] },
    });
    expect(principalOf({ iam: { userArn: 'arn:aws:iam::123456789012:user/ops' } }, maps)).toMatchObject({
      admin: true,
    });
    expect(principalOf(undefined, maps)).toBeNull();
  });

  it('gives an unmapped JWT subject no role at all', () => {
    const principal = principalOf(
      { jwt: { claims: { sub: 'repo:other/repo:ref:main' } } },
      { iam: new Map(), jwt: new Map() },
    );

    expect(principal).toEqual({ id: 'repo:other/repo:ref:main', admin: false, roles: {} });
  });
});
