import { readFileSync } from 'node:fs';
import { App, type AppProps, Duration, Size, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  optional,
  parseEncryption,
  parseIndexLayout,
  parseList,
  parseNumber,
  parsePriceClass,
  parseRetention,
  parseStorageClass,
} from './context.ts';
import { ArcaPrimaryStack } from './stacks/primaryStack.ts';
import { ArcaReplicaStack } from './stacks/replicaStack.ts';

/** Placeholder account for offline synth; `cdk deploy` passes the real one (CDK_DEFAULT_ACCOUNT or -c account=…). */
export const DUMMY_ACCOUNT = '111111111111';

/** The app's context keys (`cdk synth -c key=value` or cdk.json), all optional. */
export interface ArcaContext {
  account?: string;
  /** @default us-east-1 */
  region?: string;
  /** @default us-west-2 */
  replicaRegion?: string;
  /**
   * Name of the primary stack; the replica stack is `<stackName>Replica`. A second store in the same
   * account takes another name. Every physical name derives from it or is generated. @default Arca
   */
  stackName?: string;
  /** `false` builds no CloudFront (downloads as S3 presigned URLs). @default true */
  cdn?: string | boolean;
  /** Generation of the CloudFront key pair made inside AWS; +1 rotates it. @default 1 */
  cdnKeyGeneration?: string | number;
  /** Path of your own CloudFront signing public key PEM (or the PEM itself in `signingPublicKeyPem`). @default - generated */
  signingPublicKeyFile?: string;
  signingPublicKeyPem?: string;
  /** `PriceClass_100`, `PriceClass_200` or `PriceClass_All`. @default PriceClass_100 */
  priceClass?: string;
  /** Custom domain names of the distribution (comma-separated or a JSON list); needs `cdnCertificateArn`. */
  cdnDomainNames?: string | string[];
  /** ACM certificate ARN (us-east-1) for `cdnDomainNames`. */
  cdnCertificateArn?: string;
  /** `S3_MANAGED` (default) or `KMS`. */
  encryption?: string;
  replicationTimeControl?: string | boolean;
  replicateIndex?: string | boolean;
  /** The index table's GSIs: `minimal`, `all` (a table created before them) or a `migrate-*` step (docs/deploy.md § 8). @default minimal */
  indexLayout?: string;
  /** Storage class of replicas (`STANDARD`, `STANDARD_IA`, `ONEZONE_IA`, `INTELLIGENT_TIERING`, `GLACIER_IR`). @default STANDARD_IA */
  replicaStorageClass?: string;
  /** Objects at or below this many KiB never leave STANDARD (≥ 128). @default 1024 */
  tierMinimumSizeKiB?: string | number;
  githubRepository?: string;
  /** ARN of the account's existing GitHub OIDC provider. @default - a new one */
  githubOidcProviderArn?: string;
  /** SNS topic every alarm notifies. @default - a new topic (output AlarmTopicArn) */
  alarmTopicArn?: string;
  /** `true` runs ClamAV in the scan (a container-image function; `cdk deploy` needs Docker). @default false */
  clamav?: string | boolean;
  /** The OSV advisory database, `s3://bucket/key.zip`. @default - no vulnerability matching */
  osvDatabase?: string;
  /** API stage throttling, requests per second and burst. @default 1000 / 2000 */
  apiThrottleRate?: string | number;
  apiThrottleBurst?: string | number;
  /** Scan function memory (MB), records per invocation, most instances at once. @default 1769 / 1 / 100 */
  scanMemorySize?: string | number;
  scanBatchSize?: string | number;
  scanMaxConcurrency?: string | number;
  /** Days function and access logs are kept (a CloudWatch Logs retention value). @default 30 */
  logRetentionDays?: string | number;
  /**
   * `sub` claims the GitHub CI role trusts (`repo:<githubRepository>:ref:refs/heads/main`,
   * `…:environment:prod`, …): comma-separated or a JSON list. @default the `main` branch only
   */
  githubSubjects?: string | string[];
  /** OIDC issuers the bearer API trusts (https URLs): comma-separated or a JSON list. @default none */
  oidcIssuers?: string | string[];
  /** Store-wide administrators, IAM role or user ARNs: comma-separated or a JSON list. @default none */
  adminPrincipals?: string | string[];
  apiReservedConcurrency?: string | number;
  /** Provenance signing key generations; +1 rotates (docs/deploy.md). @default 1 */
  signingKeyGenerations?: string | number;
  scanReservedConcurrency?: string | number;
  /** Minutes between GC runs. @default 60 */
  gcIntervalMinutes?: string | number;
  /** Not needed for exclusivity (the `LOCK#gc` item). @default - unreserved */
  gcReservedConcurrency?: string | number;
  /** Hours an unreferenced blob is kept before GC deletes it. @default 24 */
  blobGraceHours?: string | number;
}

export interface ArcaApp {
  readonly app: App;
  readonly primary: ArcaPrimaryStack;
  readonly replica: ArcaReplicaStack;
}

/** Builds the two-stack app, with cdk-nag's AWS Solutions checks failing synth on any finding. */
export function createArcaApp(props: AppProps = {}): ArcaApp {
  const app = new App(props);
  const ctx = (key: keyof ArcaContext): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const flag = (key: keyof ArcaContext) => ctx(key) === 'true';
  const list = (key: keyof ArcaContext) => parseList(key, app.node.tryGetContext(key));
  const int = (key: keyof ArcaContext) => parseNumber(key, ctx(key));
  if (app.node.tryGetContext('githubNamespaces') !== undefined)
    throw new Error(
      "context 'githubNamespaces' was removed: bindings live in the index. Bind the CI role (output CiRoleArn) in each namespace policy's `members` (PUT /v1/namespaces/{ns}/policy); see docs/deploy.md § 6",
    );
  const account = ctx('account') ?? process.env.CDK_DEFAULT_ACCOUNT ?? DUMMY_ACCOUNT;
  const region = ctx('region') ?? 'us-east-1';
  const replicaRegion = ctx('replicaRegion') ?? 'us-west-2';
  const stackName = ctx('stackName') ?? 'Arca';
  if (!/^[A-Za-z][A-Za-z0-9-]{0,100}$/.test(stackName))
    throw new Error(`context 'stackName' must be a CloudFormation stack name, got '${stackName}'`);
  const encryption = parseEncryption(ctx('encryption'));
  const gcInterval = int('gcIntervalMinutes');
  const keyFile = ctx('signingPublicKeyFile');
  const signingPublicKeyPem = ctx('signingPublicKeyPem') ?? (keyFile && readFileSync(keyFile, 'utf8'));
  const tierKiB = int('tierMinimumSizeKiB');
  const lifecycle = tierKiB === undefined ? undefined : { minimumTransitionSize: Size.kibibytes(tierKiB) };

  // The primary reads the replica's bucket name and key ARN as cross-region references
  // (CloudFormation Fn::GetStackOutput): both are generated, never fixed names.
  const replica = new ArcaReplicaStack(app, `${stackName}Replica`, {
    env: { account, region: replicaRegion },
    description: 'Arca artifact store: replica bucket (second region)',
    crossRegionReferences: true,
    replica: { encryption, lifecycle },
  });
  const primary = new ArcaPrimaryStack(app, stackName, {
    env: { account, region },
    description: 'Arca artifact store',
    crossRegionReferences: true,
    store: (scope) => ({
      encryption,
      lifecycle,
      replication: {
        region: replicaRegion,
        bucketName: replica.replica.bucket.bucketName,
        kmsKeyArn: replica.replica.encryptionKey?.keyArn,
        storageClass: parseStorageClass(ctx('replicaStorageClass')),
        replicationTimeControl: flag('replicationTimeControl'),
        replicateIndex: flag('replicateIndex'),
      },
      indexLayout: parseIndexLayout(ctx('indexLayout')),
      cdn: ctx('cdn') !== 'false',
      cdnKeyGeneration: int('cdnKeyGeneration'),
      signingPublicKeyPem: signingPublicKeyPem || undefined,
      priceClass: parsePriceClass(ctx('priceClass')),
      domainNames: list('cdnDomainNames'),
      certificate: optional(ctx('cdnCertificateArn'), (arn) =>
        acm.Certificate.fromCertificateArn(scope, 'CdnCertificate', arn),
      ),
      githubRepository: ctx('githubRepository'),
      githubSubjects: list('githubSubjects'),
      githubOidcProvider: optional(ctx('githubOidcProviderArn'), (arn) =>
        iam.OidcProviderNative.fromOidcProviderArn(scope, 'GitHubOidcProvider', arn),
      ),
      alarmTopic: optional(ctx('alarmTopicArn'), (arn) => sns.Topic.fromTopicArn(scope, 'AlarmTopic', arn)),
      oidcIssuers: list('oidcIssuers'),
      adminPrincipals: list('adminPrincipals'),
      apiReservedConcurrency: int('apiReservedConcurrency'),
      throttlingRateLimit: int('apiThrottleRate'),
      throttlingBurstLimit: int('apiThrottleBurst'),
      signingKeyGenerations: int('signingKeyGenerations'),
      scanReservedConcurrency: int('scanReservedConcurrency'),
      scanMemorySize: int('scanMemorySize'),
      scanBatchSize: int('scanBatchSize'),
      scanMaxConcurrency: int('scanMaxConcurrency'),
      clamav: flag('clamav'),
      osvDatabase: ctx('osvDatabase'),
      logRetention: parseRetention(int('logRetentionDays')),
      gcSchedule: gcInterval === undefined ? undefined : events.Schedule.rate(Duration.minutes(gcInterval)),
      gcReservedConcurrency: int('gcReservedConcurrency'),
      blobGraceHours: int('blobGraceHours'),
    }),
  });
  // The replication rule and the CloudFront failover origin name the replica bucket: create it first.
  primary.addStackDependency(replica, 'replication and CloudFront failover name the replica bucket');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, primary, replica };
}
