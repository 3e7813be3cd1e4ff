import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * Routes declared on their own (besides the proxy) so API Gateway's per-route metrics give the
 * publish and fetch SLIs; they hit the same function as the proxy.
 */
export const SLI_ROUTES = {
  publish: 'POST /v1/uploads/{uploadId}/commit',
  fetch: 'GET /v1/packages/{ns}/{pkg}/versions/{version}/files/{name}',
} as const;

export interface ArtifactApiProps {
  /** The `api` function every route integrates with. */
  readonly handler: lambda.IFunction;
  /**
   * Steady-state requests per second each API's stage admits (API Gateway's account quota is
   * 10,000 rps per region; raise it first to go beyond).
   * @default 1000
   */
  readonly throttlingRateLimit?: number;
  /** Requests admitted at once above the rate. @default 2000 */
  readonly throttlingBurstLimit?: number;
  /** Retention of the access log. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** Stage throttling when not configured: room for 1,000 requests per second, bursts of 2,000. */
export const DEFAULT_API_THROTTLE = { rateLimit: 1000, burstLimit: 2000 } as const;

/**
 * Two HTTP APIs on the one `api` function, with the same routes: `httpApi` signs with SigV4 (IAM
 * authorizer on every route but `GET /v1/health`), `bearerApi` takes `Authorization: Bearer` (Arca
 * tokens, OIDC tokens) with no API Gateway authorizer, the function verifying the token itself. An
 * HTTP API route has one authorizer and IAM cannot be tried after another, hence two APIs; both are
 * throttled alike and log to one access log.
 */
export class ArtifactApi extends Construct {
  /** SigV4: the caller is the IAM principal API Gateway verified. */
  public readonly httpApi: apigw.HttpApi;
  public readonly stage: apigw.HttpStage;
  /** Bearer tokens, verified by the function (an Arca token read from the index, or an OIDC token). */
  public readonly bearerApi: apigw.HttpApi;
  public readonly bearerStage: apigw.HttpStage;
  public readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ArtifactApiProps) {
    super(scope, id);
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    const rateLimit = props.throttlingRateLimit ?? DEFAULT_API_THROTTLE.rateLimit;
    const burstLimit = props.throttlingBurstLimit ?? DEFAULT_API_THROTTLE.burstLimit;
    if (!(rateLimit > 0) || !Number.isInteger(burstLimit) || burstLimit < 1)
      throw new Error(`API throttling must be a positive rate and burst, got ${rateLimit} / ${burstLimit}`);
    [this.httpApi, this.stage] = this.createApi('HttpApi', 'Arca artifact store API (SigV4)', props);
    [this.bearerApi, this.bearerStage] = this.createApi(
      'BearerApi',
      'Arca artifact store API (bearer tokens: Arca, OIDC)',
      props,
    );
    // One integration per API: CDK binds an integration (and its invoke permission) to a single API.
    this.addRoutes(this.httpApi, new HttpLambdaIntegration('Api', props.handler), new HttpIamAuthorizer());
    this.addRoutes(this.bearerApi, new HttpLambdaIntegration('BearerApi', props.handler), undefined);
  }

  /** The SigV4 API's base URL. */
  public get url(): string {
    return this.httpApi.apiEndpoint;
  }

  /** The bearer API's base URL (`ARCA_URL` for a client with `ARCA_TOKEN` or an OIDC token). */
  public get bearerUrl(): string {
    return this.bearerApi.apiEndpoint;
  }

  /** Both APIs, SigV4 first: what metrics and alarms sum over. */
  public get apis(): readonly apigw.HttpApi[] {
    return [this.httpApi, this.bearerApi];
  }

  private createApi(
    id: string,
    description: string,
    props: ArtifactApiProps,
  ): [apigw.HttpApi, apigw.HttpStage] {
    const api = new apigw.HttpApi(this, id, { description, createDefaultStage: false });
    const stage = new apigw.HttpStage(this, id === 'HttpApi' ? 'DefaultStage' : `${id}DefaultStage`, {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? DEFAULT_API_THROTTLE.rateLimit,
        burstLimit: props.throttlingBurstLimit ?? DEFAULT_API_THROTTLE.burstLimit,
      },
      detailedMetricsEnabled: true,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            apiId: '$context.apiId',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            caller: '$context.identity.userArn',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    return [api, stage];
  }

  /**
   * Health (public by contract), the proxy, and the SLI routes declared on their own. With no
   * `authorizer` (the bearer API) every route reaches the function, which answers 401 itself.
   */
  private addRoutes(
    api: apigw.HttpApi,
    integration: HttpLambdaIntegration,
    authorizer: HttpIamAuthorizer | undefined,
  ): void {
    const health = api.addRoutes({ path: '/v1/health', methods: [apigw.HttpMethod.GET], integration });
    for (const route of health)
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'GET /v1/health is public by contract (docs/API): load balancers and probes call it unsigned.',
      });
    const routes = [
      ...api.addRoutes({ path: '/v1/{proxy+}', methods: [apigw.HttpMethod.ANY], integration, authorizer }),
      ...Object.values(SLI_ROUTES).flatMap((routeKey) => {
        const [method, path] = routeKey.split(' ') as [keyof typeof apigw.HttpMethod, string];
        return api.addRoutes({ path, methods: [apigw.HttpMethod[method]], integration, authorizer });
      }),
    ];
    if (authorizer === undefined)
      for (const route of routes)
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'The bearer API authenticates in the api function: Arca tokens are read from the index on every request (a revoked one answers 401 at once), OIDC tokens are verified against the trusted issuers; no token answers 401.',
        });
  }
}
