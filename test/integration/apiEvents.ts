import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { expect } from 'vitest';
import { type AwsBackend, createAwsBackend } from '../../functions/adapters/aws/awsBackend.ts';
import type { AwsClients } from '../../functions/adapters/aws/clients.ts';
import { ADMIN_PRINCIPALS_ENV, parseAdminPrincipals } from '../../functions/adapters/aws/lambdaPrincipal.ts';
import type { OidcVerifier, VerifiedToken } from '../../functions/core/access.ts';
import {
  type ApiEvent,
  type ApiHandlerDeps,
  createHandler,
  type IamAuthorizerContext,
} from '../../functions/handlers/api.ts';
import { sha256 } from '../support/fixtures.ts';
import { freshResources, motoClients } from './awsFixtures.ts';

/** A caller as the SigV4 API's IAM authorizer describes it. */
export const iamCaller = (userArn: string): IamAuthorizerContext => ({ iam: { userArn } });

/** Who calls: an IAM principal (SigV4 API), or a bearer token (bearer API, no authorizer). */
export type AuthorizerContext = IamAuthorizerContext | { readonly bearer: string };

let requests = 0;

/** An API Gateway HTTP API (payload 2.0) event, body base64-encoded as API Gateway sends it. */
export function apiEvent(
  method: string,
  path: string,
  options: { body?: unknown; query?: string; authorizer?: AuthorizerContext } = {},
): ApiEvent {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const caller = options.authorizer;
  const bearer = caller && 'bearer' in caller ? { Authorization: `Bearer ${caller.bearer}` } : {};
  const authorizer = caller && 'iam' in caller ? { authorizer: caller } : {};
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { 'Content-Type': 'application/json', ...bearer },
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
      ...authorizer,
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  json: Record<string, unknown>;
}

export type Call = (e: ApiEvent) => Promise<Answer>;

/** Invokes the Lambda handler in-process and parses its result. */
export function callerOf(deps: ApiHandlerDeps | (() => ApiHandlerDeps)): Call {
  const handler = createHandler(deps, { logger: new Logger({ logLevel: 'SILENT' }) });
  return async (e) => {
    const result = (await handler(e, {} as Context)) as APIGatewayProxyStructuredResultV2;
    return {
      status: result.statusCode!,
      headers: result.headers as Record<string, string>,
      json: result.body ? JSON.parse(result.body) : {},
    };
  };
}

/** The AWS backend on this test's own moto resources, without the SQS poller. */
export async function motoBackend(): Promise<{ clients: AwsClients; backend: AwsBackend }> {
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
  return { clients, backend };
}

/**
 * A handler on `backend`: store admins from `ARCA_ADMIN_PRINCIPALS` as the Lambda parses it, every
 * other binding from the index (read on every request here: no policy cache), OIDC tokens verified by
 * `oidc` (by default none verifies).
 */
export function handlerWith(
  backend: AwsBackend,
  env: Record<string, string> = {},
  oidc: OidcVerifier = fixedOidc({}),
): Call {
  const admins = parseAdminPrincipals(ADMIN_PRINCIPALS_ENV, env[ADMIN_PRINCIPALS_ENV]);
  return callerOf({ core: backend.deps, access: { admins, oidc, policyCacheMs: 0 } });
}

/**
 * The OidcVerifier port answering fixed tokens: `tokens[token]` verified, anything else not. The
 * real verifier (discovery, JWKS, signatures) is tested against a real issuer elsewhere.
 */
export function fixedOidc(tokens: Readonly<Record<string, VerifiedToken>>): OidcVerifier {
  return { verify: async (token) => tokens[token] ?? null };
}

export async function drain(backend: AwsBackend) {
  for (let round = 0; round < 20; round++) if ((await backend.poller.pollOnce(0)) === 0) return;
}

/** Creates an upload of `data` as `namespace/package@version` and PUTs the bytes it asks for. */
export async function publish(
  call: Call,
  authorizer: AuthorizerContext,
  version: string,
  data: Buffer,
  target = { namespace: 'web', package: 'site' },
): Promise<string> {
  const created = await call(
    apiEvent('POST', '/v1/uploads', {
      authorizer,
      body: { ...target, version, files: [{ name: 'site.tgz', size: data.length, sha256: sha256(data) }] },
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
