import { readFileSync } from 'node:fs';
import { App, type AppProps, Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BlobEncryption } from './constructs/storage.ts';
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
  /** Path of the CloudFront signing public key PEM (or the PEM itself in `signingPublicKeyPem`). */
  signingPublicKeyFile?: string;
  signingPublicKeyPem?: string;
  /** `S3_MANAGED` (default) or `KMS`. */
  encryption?: string;
  replicationTimeControl?: string | boolean;
  replicateIndex?: string | boolean;
  githubRepository?: string;
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
  /** @default 1 */
  gcReservedConcurrency?: string | number;
  /** Hours an unreferenced blob is kept before GC deletes it. @default 24 */
  blobGraceHours?: string | number;
  /** ARN of an SNS topic the alarms notify. @default none (alarms show in the console only) */
  alarmTopicArn?: string;
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
  const int = (key: keyof ArcaContext) => {
    const value = ctx(key);
    return value === undefined ? undefined : Number.parseInt(value, 10);
  };
  if (app.node.tryGetContext('githubNamespaces') !== undefined)
    throw new Error(
      "context 'githubNamespaces' was removed: bindings live in the index. Bind the CI role (output CiRoleArn) in each namespace policy's `members` (PUT /v1/namespaces/{ns}/policy); see docs/deploy.md § 6",
    );
  const account = ctx('account') ?? process.env.CDK_DEFAULT_ACCOUNT ?? DUMMY_ACCOUNT;
  const region = ctx('region') ?? 'us-east-1';
  const replicaRegion = ctx('replicaRegion') ?? 'us-west-2';
  const encryption = parseEncryption(ctx('encryption'));
  const gcInterval = int('gcIntervalMinutes');
  const keyFile = ctx('signingPublicKeyFile');
  const signingPublicKeyPem = ctx('signingPublicKeyPem') ?? (keyFile && readFileSync(keyFile, 'utf8'));

  const replica = new ArcaReplicaStack(app, 'ArcaReplica', {
    env: { account, region: replicaRegion },
    description: 'Arca artifact store: replica bucket (second region)',
    replica: { encryption },
  });
  const primary = new ArcaPrimaryStack(app, 'Arca', {
    env: { account, region },
    description: 'Arca artifact store',
    store: {
      encryption,
      replication: {
        region: replicaRegion,
        replicationTimeControl: flag('replicationTimeControl'),
        replicateIndex: flag('replicateIndex'),
      },
      signingPublicKeyPem: signingPublicKeyPem || undefined,
      githubRepository: ctx('githubRepository'),
      githubSubjects: list('githubSubjects'),
      oidcIssuers: list('oidcIssuers'),
      adminPrincipals: list('adminPrincipals'),
      apiReservedConcurrency: int('apiReservedConcurrency'),
      signingKeyGenerations: int('signingKeyGenerations'),
      scanReservedConcurrency: int('scanReservedConcurrency'),
      gcSchedule: gcInterval === undefined ? undefined : events.Schedule.rate(Duration.minutes(gcInterval)),
      gcReservedConcurrency: int('gcReservedConcurrency'),
      blobGraceHours: int('blobGraceHours'),
      alarmTopicArn: ctx('alarmTopicArn'),
    },
  });
  // The replication rule and the CloudFront failover origin name the replica bucket: create it first.
  primary.addStackDependency(replica, 'replication and CloudFront failover name the replica bucket');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, primary, replica };
}

/** `a,b` (as `-c key=a,b` gives it), `["a","b"]` (a JSON string), or a list from cdk.json. */
function parseList(key: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let items: unknown = value;
  if (typeof value === 'string') {
    const text = value.trim();
    items = text.startsWith('[') ? JSON.parse(text) : text.split(',');
  }
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string'))
    throw new Error(`context '${key}' must be a comma-separated string or a list of strings`);
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

function parseEncryption(value: string | undefined): BlobEncryption {
  if (value === undefined) return BlobEncryption.S3_MANAGED;
  if (value === BlobEncryption.S3_MANAGED || value === BlobEncryption.KMS) return value;
  throw new Error(`context 'encryption' must be S3_MANAGED or KMS, got '${value}'`);
}
