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
  type CallerBindings,
  callerBindingsFrom,
  principalOf,
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
  /** Administrators and role maps (lambdaPrincipal.ts); a caller bound by none holds no role. */
  readonly bindings: CallerBindings;
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
  let bindings: CallerBindings;

  const handle = async (event: ApiEvent): Promise<APIGatewayProxyStructuredResultV2> => {
    const request = toHttpRequest(event);
    logger.appendKeys({ requestId: request.requestId });
    if (!api) {
      try {
        const resolved = typeof deps === 'function' ? deps() : deps;
        bindings = resolved.bindings;
        api = createApi({ ...resolved.core, authenticate: async (req) => principals.get(req) ?? null });
      } catch (error) {
        // A malformed configuration (a role map, an admin ARN) answers every request, health
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
    const principal = principalOf(event.requestContext.authorizer, bindings);
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

/**
 * The Lambda's dependencies, built on first invocation from the stack's variables. Who may do what
 * is parsed first: a malformed binding fails every invocation until it is fixed.
 */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): () => ApiHandlerDeps {
  let deps: ApiHandlerDeps | undefined;
  return () => {
    if (!deps) {
      const bindings = callerBindingsFrom(env);
      requireEnv(ENV.bucket, env);
      requireEnv(ENV.table, env);
      deps = { core: awsDeps(env), bindings };
    }
    return deps;
  };
}

export const handler = createHandler(defaultDeps());
