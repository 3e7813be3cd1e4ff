import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { LAMBDA_BUNDLE } from '../../functions/config/bundling.ts';
import { ENV } from '../../functions/config/env.ts';
import { acknowledgeResourceWildcards, LAMBDA_BASIC_EXECUTION_FINDING } from './nag.ts';

/** The repository root: entries, lock file and tsconfig are found from here, not from the cwd. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Lambda entry points, by handler name (`functions/handlers/<name>.ts`, each exporting `handler`). */
export function handlerEntry(name: 'api' | 'scan' | 'gc' | 'events' | 'cdnKeyPair' | 'rematch'): string {
  return fileURLToPath(new URL(`../../functions/handlers/${name}.ts`, import.meta.url));
}

/** Powertools reads these; the dashboard's custom metrics live under the namespace. */
export const POWERTOOLS = {
  serviceName: 'arca',
  metricsNamespace: 'Arca',
} as const;

export interface ArcaFunctionProps {
  /** Path of the handler module. */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** @default Duration.seconds(29) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * Concurrency reserved for (and capped at) this function.
   * @default - unreserved: shares the account's pool
   */
  readonly reservedConcurrentExecutions?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * A Node 22 arm64 function bundled locally by esbuild (never Docker, so `cdk synth` runs offline) as
 * minified ESM with source maps, with Powertools configured and its own log group.
 */
export class ArcaFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ArcaFunctionProps) {
    const logLevel = props.logLevel ?? 'INFO';
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(29),
      memorySize: props.memorySize ?? 512,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../../package-lock.json', import.meta.url)),
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        // Stack traces need file names, not the sources themselves: keeps the zip small.
        sourcesContent: false,
        target: LAMBDA_BUNDLE.target,
        format: OutputFormat.ESM,
        mainFields: [...LAMBDA_BUNDLE.mainFields],
        banner: LAMBDA_BUNDLE.banner,
        bundleAwsSDK: true,
        externalModules: [...LAMBDA_BUNDLE.external],
      },
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        [ENV.backend]: 'aws',
        POWERTOOLS_SERVICE_NAME: POWERTOOLS.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: POWERTOOLS.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: logLevel,
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
      },
    });
    Validations.of(this).acknowledge({
      id: LAMBDA_BASIC_EXECUTION_FINDING,
      reason: 'AWSLambdaBasicExecutionRole only lets the function write its own logs.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime the handlers are built and tested for; upgrades are deliberate.',
    });
    acknowledgeResourceWildcards(
      this,
      ['*'],
      'X-Ray trace segments (Tracing.ACTIVE) have no resource-level permissions.',
    );
  }
}
