import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type {
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { awsDeps } from '../adapters/aws/deps.ts';
import { EmfMetrics } from '../adapters/aws/emfMetrics.ts';
import {
  type AwsAccess,
  type LambdaAuthenticator,
  lambdaAuthenticator,
} from '../adapters/aws/lambdaAuthenticator.ts';
import {
  ADMIN_PRINCIPALS_ENV,
  parseAdminPrincipals,
  RETIRED_ROLE_MAPS,
  retiredRoleMapsIn,
} from '../adapters/aws/lambdaPrincipal.ts';
import { runtimeSecrets } from '../adapters/aws/runtimeSecrets.ts';
import { oidcIssuersFromEnv } from '../adapters/oidc/issuers.ts';
import { JoseOidcVerifier } from '../adapters/oidc/joseOidcVerifier.ts';
import { ENV, requireEnv } from '../config/env.ts';
import type { CoreDeps } from '../core/deps.ts';
import { createApi } from '../http/api.ts';
import { REFUSAL_METRIC } from '../http/authMetrics.ts';
import { errorResponse } from '../http/errors.ts';
import { type HttpRequest, type HttpResponse, MAX_JSON_BODY_BYTES } from '../http/types.ts';

/** What API Gateway's IAM authorizer puts in `requestContext.authorizer` (HTTP API, payload 2.0). */
export interface IamAuthorizerContext {
  readonly iam?: { readonly userArn?: string; readonly accountId?: string };
}

export type ApiEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & { readonly authorizer?: IamAuthorizerContext }
>;

export interface ApiHandlerDeps {
  readonly core: CoreDeps;
  /** Store admins and the OIDC verifier; every other binding is read from the index. */
  readonly access: AwsAccess;
}

export interface ApiHandlerOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

function toHttpRequest(event: ApiEvent): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body,
    requestId: event.requestContext.requestId,
  };
}

function toResult(response: HttpResponse, requestId: string): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { ...response.headers, 'x-request-id': requestId };
  if (response.body === undefined) return { statusCode: response.status, headers };
  headers['content-type'] = 'application/json';
  return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
}

/**
 * API Gateway HTTP API (payload 2.0) → the shared route table → the proxy result. Two APIs invoke it:
 * the SigV4 one, whose IAM authorizer names the caller, and the bearer one, with no authorizer, whose
 * Arca and OIDC tokens the function verifies itself (lambdaAuthenticator.ts). The route table asks
 * for the principal only on routes that need one.
 */
export function createHandler(
  deps: ApiHandlerDeps | (() => ApiHandlerDeps),
  options: ApiHandlerOptions = {},
) {
  // The stack sets POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE; these are local defaults.
  const service = process.env.POWERTOOLS_SERVICE_NAME || 'arca-api';
  const logger = options.logger ?? new Logger({ serviceName: service });
  const metrics =
    options.metrics ??
    new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'Arca', serviceName: service });
  let core: CoreDeps | undefined;
  let authenticate: LambdaAuthenticator;

  const handle = async (event: ApiEvent): Promise<APIGatewayProxyStructuredResultV2> => {
    const request = toHttpRequest(event);
    logger.appendKeys({ requestId: request.requestId });
    if (!core) {
      try {
        const resolved = typeof deps === 'function' ? deps() : deps;
        authenticate = lambdaAuthenticator(resolved.access, resolved.core);
        // Core records its SLIs once, through the port: on Lambda as EMF, with this invocation's flush.
        core = { ...resolved.core, metrics: resolved.core.metrics ?? new EmfMetrics(metrics) };
      } catch (error) {
        // A malformed configuration (an admin ARN, an issuer) answers every request, health
        // included, with 500 until it is fixed: never with a guess at who may do what.
        logger.error('configuration rejected at cold start', { error });
        metrics.addMetric('Requests', MetricUnit.Count, 1);
        metrics.addMetric('ServerErrors', MetricUnit.Count, 1);
        return toResult(errorResponse(500, 'Internal', 'internal error'), request.requestId);
      }
    }
    if (Buffer.byteLength(request.body ?? '') > MAX_JSON_BODY_BYTES) {
      const tooLarge = errorResponse(
        413,
        'TooLarge',
        `JSON bodies are limited to ${MAX_JSON_BODY_BYTES} bytes`,
      );
      return toResult(tooLarge, request.requestId);
    }
    const iamCaller = event.requestContext.authorizer?.iam?.userArn || undefined;
    const api = createApi({ ...core, authenticate: (req) => authenticate(iamCaller, req) });
    const { response, error, refusal } = await api(request);
    if (error !== undefined) logger.error('unexpected error', { error });
    metrics.addMetric('Requests', MetricUnit.Count, 1);
    if (response.status >= 500) metrics.addMetric('ServerErrors', MetricUnit.Count, 1);
    else if (response.status >= 400) metrics.addMetric('ClientErrors', MetricUnit.Count, 1);
    // Refused callers (401/403), so a rise in either is visible on the dashboard and alarmable.
    if (refusal) metrics.addMetric(REFUSAL_METRIC[refusal.status], MetricUnit.Count, 1);
    logger.info('request', { method: request.method, path: request.path, status: response.status });
    return toResult(response, request.requestId);
  };
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

/**
 * Store admins and the OIDC verifier from the stack's variables, parsed at cold start: a malformed
 * admin ARN or issuer throws. A retired role map still set is logged and grants nothing. The
 * verifier fetches nothing until a token of a trusted issuer arrives (discovery, then cached JWKS).
 */
export function awsAccessFromEnv(env: NodeJS.ProcessEnv, log: (message: string) => void): AwsAccess {
  const admins = parseAdminPrincipals(ADMIN_PRINCIPALS_ENV, env[ADMIN_PRINCIPALS_ENV]);
  for (const name of retiredRoleMapsIn(env))
    log(
      `${name} is no longer read (${RETIRED_ROLE_MAPS.join(', ')} were retired): the callers it bound hold no role until bound in a namespace policy's members or trust rules (docs/deploy.md § 6)`,
    );
  const oidc = new JoseOidcVerifier({
    issuers: oidcIssuersFromEnv(env),
    log: (line) => log(JSON.stringify(line)),
  });
  return { admins, oidc };
}

/**
 * The Lambda's dependencies, built on first invocation from the stack's variables. Who may do what
 * is parsed first: a malformed admin ARN or issuer fails every invocation until it is fixed.
 */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): () => ApiHandlerDeps {
  let deps: ApiHandlerDeps | undefined;
  const log = (message: string) => console.error(JSON.stringify({ level: 'ERROR', message }));
  return () => {
    if (!deps) {
      const access = awsAccessFromEnv(env, log);
      requireEnv(ENV.bucket, env);
      requireEnv(ENV.table, env);
      deps = { core: awsDeps(env), access };
    }
    return deps;
  };
}

// The cursor key is read from Secrets Manager before the first request builds the dependencies.
export const handler = createHandler(defaultDeps()).use(runtimeSecrets());
