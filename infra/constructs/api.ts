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
  /** @default 50 requests per second, steady state */
  readonly throttlingRateLimit?: number;
  /** @default 100 requests */
  readonly throttlingBurstLimit?: number;
}

/** The HTTP API: SigV4 (IAM) on every route but `GET /v1/health`, throttled, access-logged. */
export class ArtifactApi extends Construct {
  public readonly httpApi: apigw.HttpApi;
  public readonly stage: apigw.HttpStage;
  public readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ArtifactApiProps) {
    super(scope, id);
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Arca artifact store API',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttlingRateLimit ?? 50, burstLimit: props.throttlingBurstLimit ?? 100 },
      detailedMetricsEnabled: true,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            caller: '$context.identity.userArn',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const integration = new HttpLambdaIntegration('Api', props.handler);
    const iam = new HttpIamAuthorizer();
    const health = this.httpApi.addRoutes({
      path: '/v1/health',
      methods: [apigw.HttpMethod.GET],
      integration,
    });
    for (const route of health)
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'GET /v1/health is public by contract (docs/API): load balancers and probes call it unsigned.',
      });
    this.httpApi.addRoutes({
      path: '/v1/{proxy+}',
      methods: [apigw.HttpMethod.ANY],
      integration,
      authorizer: iam,
    });
    for (const routeKey of Object.values(SLI_ROUTES)) {
      const [method, path] = routeKey.split(' ') as [keyof typeof apigw.HttpMethod, string];
      this.httpApi.addRoutes({ path, methods: [apigw.HttpMethod[method]], integration, authorizer: iam });
    }
  }

  /** The API's base URL. */
  public get url(): string {
    return this.httpApi.apiEndpoint;
  }
}
