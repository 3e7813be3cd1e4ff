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
import {
  type AuthorizerContext,
  IAM_ROLES_ENV,
  JWT_ROLES_ENV,
  parseRoleMap,
  principalOf,
  type RoleMap,
} from '../adapters/aws/lambdaPrincipal.ts';
import { ENV, requireEnv } from '../config/env.ts';
import type { CoreDeps } from '../core/deps.ts';
import type { Principal } from '../core/model.ts';
import { createApi } from '../http/api.ts';
import { errorResponse } from '../http/errors.ts';
import { type HttpRequest, type HttpResponse, MAX_JSON_BODY_BYTES } from '../http/types.ts';

export type ApiEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & { readonly authorizer?: AuthorizerContext }
>;

export interface ApiHandlerDeps {
  readonly core: CoreDeps;
  readonly roles: { readonly iam: RoleMap; readonly jwt: RoleMap };
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
 * API Gateway HTTP API (payload 2.0) → the shared route table → the proxy result. The caller is who
 * API Gateway's IAM or JWT authorizer says it is (see lambdaPrincipal.ts for how roles are granted);
 * the route table asks for the principal through its authenticator, which reads it back here.
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
  const principals = new WeakMap<HttpRequest, Principal>();
  let api: ReturnType<typeof createApi> | undefined;
  let roles: ApiHandlerDeps['roles'];

  const handle = async (event: ApiEvent): Promise<APIGatewayProxyStructuredResultV2> => {
    if (!api) {
      const resolved = typeof deps === 'function' ? deps() : deps;
      roles = resolved.roles;
      api = createApi({ ...resolved.core, authenticate: async (req) => principals.get(req) ?? null });
    }
    const request = toHttpRequest(event);
    logger.appendKeys({ requestId: request.requestId });
    if (Buffer.byteLength(request.body ?? '') > MAX_JSON_BODY_BYTES) {
      const tooLarge = errorResponse(
        413,
        'TooLarge',
        `JSON bodies are limited to ${MAX_JSON_BODY_BYTES} bytes`,
      );
      return toResult(tooLarge, request.requestId);
    }
    const principal = principalOf(event.requestContext.authorizer, roles);
    if (principal) principals.set(request, principal);
    const { response, error } = await api(request);
    if (error !== undefined) logger.error('unexpected error', { error });
    metrics.addMetric('Requests', MetricUnit.Count, 1);
    if (response.status >= 500) metrics.addMetric('ServerErrors', MetricUnit.Count, 1);
    else if (response.status >= 400) metrics.addMetric('ClientErrors', MetricUnit.Count, 1);
    logger.info('request', { method: request.method, path: request.path, status: response.status });
    return toResult(response, request.requestId);
  };
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

/** The Lambda's dependencies, built on first invocation from the stack's variables. */
export function defaultDeps(): () => ApiHandlerDeps {
  let deps: ApiHandlerDeps | undefined;
  return () => {
    if (!deps) {
      requireEnv(ENV.bucket);
      requireEnv(ENV.table);
      deps = {
        core: awsDeps(process.env),
        roles: {
          iam: parseRoleMap(IAM_ROLES_ENV, process.env[IAM_ROLES_ENV]),
          jwt: parseRoleMap(JWT_ROLES_ENV, process.env[JWT_ROLES_ENV]),
        },
      };
    }
    return deps;
  };
}

export const handler = createHandler(defaultDeps());
