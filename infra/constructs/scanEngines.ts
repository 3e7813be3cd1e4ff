import { fileURLToPath } from 'node:url';
import { Duration, IgnoreMode, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';
import { ArcaFunction, handlerEntry, POWERTOOLS } from './functions.ts';
import type { IndexTable } from './indexTable.ts';
import { acknowledgeResourceWildcards, LAMBDA_BASIC_EXECUTION_FINDING } from './nag.ts';

/** The repository root: the image's build context, narrowed to what the Dockerfile copies. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ClamavEngineProps {
  /** How often freshclam refreshes the definitions. @default events.Schedule.rate(Duration.hours(6)) */
  readonly refreshSchedule?: events.Schedule;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Of the definitions bucket. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export interface OsvRematchProps {
  /** `s3://bucket/key.zip`: a zip of OSV JSON the operator (or a job) replaces to update it. */
  readonly database: string;
  readonly index: IndexTable;
  /** The blob bucket's name (the handler's dependencies need it; it reads no blob). */
  readonly blobBucketName: string;
  /** @default events.Schedule.rate(Duration.hours(1)) */
  readonly schedule?: events.Schedule;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * ClamAV on AWS (opt-in, `clamav: true`): the image the scan function runs as (Arca's scan handler
 * with clamd, infra/clamav/Dockerfile), the bucket its definitions live in, and a scheduled function
 * that refreshes them with freshclam. The image is an asset: `cdk synth` only stages its context
 * (no Docker build), `cdk deploy` builds and pushes it.
 */
export class ClamavEngine extends Construct {
  /** ClamAV's definitions (`main.cvd`, `daily.cvd`…, plus any signature files the operator adds). */
  public readonly definitions: s3.Bucket;
  /** The scan function's code: give it to `ScanPipeline` as `image`, then call `grantScan`. */
  public readonly scanImage: lambda.DockerImageCode;
  /** freshclam into the bucket, on `schedule`. */
  public readonly refreshFunction: lambda.DockerImageFunction;
  public readonly refreshRule: events.Rule;

  constructor(scope: Construct, id: string, props: ClamavEngineProps = {}) {
    super(scope, id);
    this.definitions = new s3.Bucket(this, 'Definitions', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
    Validations.of(this.definitions).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "It holds ClamAV's public signature database, rewritten by freshclam: access logs would tell nothing.",
    });
    const image = (cmd: string) =>
      lambda.DockerImageCode.fromImageAsset(PROJECT_ROOT, {
        file: 'infra/clamav/Dockerfile',
        platform: Platform.LINUX_ARM64,
        cmd: [cmd],
        ignoreMode: IgnoreMode.DOCKER,
        exclude: ['*', '!package.json', '!package-lock.json', '!functions', '!infra/clamav'],
      });
    this.scanImage = image('clamav.scan');
    this.refreshFunction = new ArcaImageFunction(this, 'Refresh', {
      code: image('clamav.refresh'),
      description: 'Arca ClamAV: refreshes the definitions bucket with freshclam',
      timeout: Duration.minutes(10),
      memorySize: 1024,
      logRetention: props.logRetention,
    });
    this.refreshFunction.addEnvironment(ENV.clamavDefinitionsBucket, this.definitions.bucketName);
    this.grantDefinitions(this.refreshFunction, ['s3:GetObject', 's3:PutObject']);
    this.refreshRule = new events.Rule(this, 'RefreshSchedule', {
      description: "Arca: refreshes ClamAV's definitions",
      schedule: props.refreshSchedule ?? events.Schedule.rate(Duration.hours(6)),
      targets: [new targets.LambdaFunction(this.refreshFunction)],
    });
  }

  /** Lets the scan function read the definitions (copied at cold start). Sets the bucket's variable. */
  public grantScan(fn: lambda.Function): void {
    fn.addEnvironment(ENV.clamavDefinitionsBucket, this.definitions.bucketName);
    this.grantDefinitions(fn, ['s3:GetObject']);
  }

  /** `actions` on every object of the definitions bucket, and listing it (no action wildcards). */
  private grantDefinitions(fn: lambda.Function, actions: string[]): void {
    const objects = this.definitions.arnForObjects('*');
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [objects] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.definitions.bucketArn] }),
    );
    acknowledgeResourceWildcards(
      fn,
      [objects],
      'Every definition file of the ClamAV definitions bucket; it holds nothing else.',
    );
  }
}

/**
 * A container-image function configured like `ArcaFunction` (arm64, X-Ray, JSON logs in its own log
 * group, Powertools), with room in /tmp for ClamAV's definitions.
 */
export class ArcaImageFunction extends lambda.DockerImageFunction {
  constructor(
    scope: Construct,
    id: string,
    props: {
      readonly code: lambda.DockerImageCode;
      readonly description: string;
      readonly timeout: Duration;
      readonly memorySize: number;
      readonly reservedConcurrentExecutions?: number;
      readonly logRetention?: logs.RetentionDays;
    },
  ) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      code: props.code,
      description: props.description,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      // The official database is ~250 MB on disk, and freshclam keeps the old one while it updates.
      ephemeralStorageSize: Size.mebibytes(2048),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        [ENV.backend]: 'aws',
        POWERTOOLS_SERVICE_NAME: POWERTOOLS.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: POWERTOOLS.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
      },
    });
    Validations.of(this).acknowledge({
      id: LAMBDA_BASIC_EXECUTION_FINDING,
      reason: 'AWSLambdaBasicExecutionRole only lets the function write its own logs.',
    });
    acknowledgeResourceWildcards(
      this,
      ['*'],
      'X-Ray trace segments (Tracing.ACTIVE) have no resource-level permissions.',
    );
  }
}

/**
 * The OSV advisory database on AWS (`osvDatabase: 's3://bucket/key.zip'`): `ARCA_OSV_DB` and a read
 * grant on that one object for the functions that match (scan, and api for attested SBOMs and the
 * vulnerabilities gate), and the re-match on a schedule, so a new database flags old versions.
 */
export class OsvRematch extends Construct {
  public readonly function: lambda.Function;
  public readonly rule: events.Rule;
  private readonly location: { bucket: s3.IBucket; key: string; url: string };

  constructor(scope: Construct, id: string, props: OsvRematchProps) {
    super(scope, id);
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(props.database);
    if (!m) throw new Error(`osvDatabase must be s3://bucket/key.zip, got '${props.database}'`);
    this.location = {
      bucket: s3.Bucket.fromBucketName(this, 'Database', m[1]!),
      key: m[2]!,
      url: props.database,
    };
    this.function = new ArcaFunction(this, 'Function', {
      entry: handlerEntry('rematch'),
      description: 'Arca OSV re-match: matches kept SBOM components against the current advisory database',
      timeout: Duration.minutes(15),
      memorySize: 2048,
      logRetention: props.logRetention,
    });
    this.function.addEnvironment(ENV.bucket, props.blobBucketName);
    props.index.grantIndexReadWrite(this.function);
    this.grantRead(this.function);
    // The next scheduled run is the retry: a re-match is idempotent.
    this.function.configureAsyncInvoke({ retryAttempts: 0 });
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Arca: matches kept SBOMs against the OSV database when it changed',
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.function)],
    });
  }

  /** `ARCA_OSV_DB` and `s3:GetObject` on the database object (HeadObject needs no more). */
  public grantRead(fn: lambda.Function): void {
    fn.addEnvironment(ENV.osvDb, this.location.url);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.location.bucket.arnForObjects(this.location.key)],
      }),
    );
  }
}
