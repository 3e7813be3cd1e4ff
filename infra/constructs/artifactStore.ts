import { RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ADMIN_PRINCIPALS_ENV, parseAdminPrincipals } from '../../functions/adapters/aws/lambdaPrincipal.ts';
import { checkIssuerUrl } from '../../functions/adapters/oidc/issuers.ts';
import { ENV } from '../../functions/config/env.ts';
import { ArtifactApi } from './api.ts';
import { BlobCdn } from './cdn.ts';
import { GitHubCiRole } from './ciRole.ts';
import { ConsoleSite } from './consoleSite.ts';
import { StoreEventBus } from './eventBus.ts';
import { ArcaFunction, handlerEntry } from './functions.ts';
import { GarbageCollector } from './garbageCollector.ts';
import { IndexTable } from './indexTable.ts';
import type { BlobLifecycleOptions } from './lifecycle.ts';
import { StoreObservability } from './observability.ts';
import { REPLICA_KEY_ALIAS, replicaBucketName } from './replication.ts';
import { ScanPipeline } from './scanPipeline.ts';
import { SigningKeys } from './signingKeys.ts';
import { BlobEncryption, BlobStorage } from './storage.ts';

/** The second region, whose bucket `ArtifactStoreReplica` (or `BlobReplica`) creates. */
export interface ArtifactStoreReplicationProps {
  /** Region of the replica bucket; must differ from the store's. */
  readonly region: string;
  /** @default replicaBucketName(account, region) — what `BlobReplica` names it by default */
  readonly bucketName?: string;
  /**
   * S3 Replication Time Control (15-minute SLA, extra per-GB charge).
   * @default false
   */
  readonly replicationTimeControl?: boolean;
  /**
   * Also make the index a global table with a replica in this region.
   * @default false
   */
  readonly replicateIndex?: boolean;
}

export interface ArtifactStoreProps {
  /** @default BlobEncryption.S3_MANAGED */
  readonly encryption?: BlobEncryption;
  /** Tiers and version expiry of `blobs/`. @default - STANDARD → STANDARD_IA (30 d) → GLACIER_IR (90 d) */
  readonly lifecycle?: BlobLifecycleOptions;
  /** Cross-region copy of `blobs/` and CloudFront failover to it. @default - single region */
  readonly replication?: ArtifactStoreReplicationProps;
  /**
   * Public key (PEM) for CloudFront signed download URLs. Without it there is no distribution and
   * `api` hands out S3 presigned GETs instead.
   * @default - no CloudFront
   */
  readonly signingPublicKeyPem?: string;
  /** Existing secret with the matching private key PEM. @default - an empty secret to fill after deploy */
  readonly signingPrivateKeySecret?: secretsmanager.ISecret;
  /**
   * How many provenance signing keys the store has had; raise it by one to rotate (docs/deploy.md).
   * Never lower it: retired keys must stay listed for old signatures to verify.
   * @default 1
   */
  readonly signingKeyGenerations?: number;
  /** @default - unreserved */
  readonly apiReservedConcurrency?: number;
  /** @default - unreserved */
  readonly scanReservedConcurrency?: number;
  /**
   * How often GC runs (EventBridge). Each run works in bounded slices for up to 15 minutes and the
   * next one resumes the rest, so keep the interval above 15 minutes.
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly gcSchedule?: events.Schedule;
  /**
   * Concurrency reserved for `gc`; 1 keeps runs from ever overlapping. Reserving needs the account's
   * unreserved pool to stay ≥ 10 (new accounts with a limit of 10 must raise it first).
   * @default 1
   */
  readonly gcReservedConcurrency?: number;
  /** @default 512 */
  readonly gcMemorySize?: number;
  /**
   * Hours a blob stays unreferenced before GC deletes its bytes (`ARCA_BLOB_GRACE_HOURS`). The grace
   * of tombstoned versions is per namespace (retention policy `graceHours`), not this.
   * @default 24
   */
  readonly blobGraceHours?: number;
  /** Steady-state API requests per second. @default 50 */
  readonly throttlingRateLimit?: number;
  /** @default 100 */
  readonly throttlingBurstLimit?: number;
  /** Where alarms notify. @default - nowhere (console only) */
  readonly alarmTopic?: sns.ITopic;
  /**
   * ARN of an existing SNS topic alarms notify (context key `alarmTopicArn`); used when `alarmTopic`
   * is not given. @default - nowhere (console only)
   */
  readonly alarmTopicArn?: string;
  /**
   * `owner/name` of a GitHub repository whose Actions may call the API through an OIDC role.
   * @default - no CI role
   */
  readonly githubRepository?: string;
  /**
   * `sub` claims the GitHub CI role trusts, each `repo:<githubRepository>:…`: a branch
   * (`…:ref:refs/heads/main`), tags (`…:ref:refs/tags/v*`), an environment (`…:environment:prod`,
   * which is what a job with `environment: prod` presents, whatever its branch). Only with
   * `githubRepository`. What the role may do inside Arca is bound in the namespace policies
   * (`members`, by the `CiRoleArn` output), never here.
   * @default - [`repo:<githubRepository>:ref:refs/heads/main`]
   */
  readonly githubSubjects?: readonly string[];
  /**
   * OIDC issuers whose tokens the bearer API accepts (`ARCA_OIDC_ISSUERS`): https URLs, e.g.
   * `https://token.actions.githubusercontent.com`. What a token may do comes from the namespace
   * policies' `trust` rules; a token of another issuer answers 401.
   * @default - none: bearer callers use Arca tokens only
   */
  readonly oidcIssuers?: readonly string[];
  /**
   * Store-wide administrators (GC, audit, namespace policies, restore, every namespace): IAM role or
   * user ARNs (`ARCA_ADMIN_PRINCIPALS`). A role ARN matches every session of the role. Nobody else
   * is an admin, whatever IAM lets them invoke.
   * @default - none: no caller can run admin routes until one is named here
   */
  readonly adminPrincipals?: readonly string[];
  /** Bucket, table, keys and secrets. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Props that bound callers inside Arca from the stack, before bindings moved into the index. */
const RETIRED_PROPS = {
  iamRoles: "bind IAM principals in the namespace policies' `members` (PUT /v1/namespaces/{ns}/policy)",
  githubNamespaces:
    "bind the CI role's ARN (output CiRoleArn) in the namespace policies' `members` (PUT /v1/namespaces/{ns}/policy)",
} as const;

/**
 * Arca: a serverless artifact store. A blob bucket with tiers and replication, a DynamoDB index,
 * the `api` function behind a SigV4 and a bearer-token HTTP API, the `scan` pipeline, scheduled
 * `gc`, CloudFront signed downloads, alarms and a dashboard.
 */
export class ArtifactStore extends Construct {
  public readonly storage: BlobStorage;
  public readonly index: IndexTable;
  public readonly apiFunction: lambda.Function;
  public readonly api: ArtifactApi;
  public readonly scan: ScanPipeline;
  public readonly signingKeys: SigningKeys;
  public readonly gc: GarbageCollector;
  public readonly cdn?: BlobCdn;
  public readonly observability: StoreObservability;
  /** The bus every state change is put on (docs/events.md). */
  public readonly events: StoreEventBus;
  /** The web console and the bearer API on one CloudFront distribution. */
  public readonly console: ConsoleSite;
  public readonly ciRole?: GitHubCiRole;
  public readonly cursorSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    // JavaScript callers and old cdk.json files reach here unchecked by the type: refuse, never ignore.
    for (const [prop, instead] of Object.entries(RETIRED_PROPS))
      if ((props as Record<string, unknown>)[prop] !== undefined)
        throw new Error(`ArtifactStore prop '${prop}' was removed: ${instead}; see docs/deploy.md § 6`);
    const stack = Stack.of(this);
    const replication = props.replication;
    if (replication && replication.region === stack.region)
      throw new Error(`replication.region must differ from the store's region (${stack.region})`);
    const replicaName = replication
      ? (replication.bucketName ?? replicaBucketName(stack.account, replication.region))
      : undefined;

    this.storage = new BlobStorage(this, 'Storage', {
      encryption: props.encryption,
      lifecycle: props.lifecycle,
      removalPolicy: props.removalPolicy,
      replication:
        replication && replicaName !== undefined
          ? {
              bucketName: replicaName,
              region: replication.region,
              replicationTimeControl: replication.replicationTimeControl,
              kmsKeyAlias: props.encryption === BlobEncryption.KMS ? REPLICA_KEY_ALIAS : undefined,
            }
          : undefined,
    });
    this.index = new IndexTable(this, 'Index', {
      replicaRegion: replication?.replicateIndex ? replication.region : undefined,
      removalPolicy: props.removalPolicy,
    });

    this.apiFunction = new ArcaFunction(this, 'ApiFunction', {
      entry: handlerEntry('api'),
      description: 'Arca API: uploads, versions, stages, downloads, leases',
      reservedConcurrentExecutions: props.apiReservedConcurrency,
    });
    this.storage.grantPublish(this.apiFunction);
    this.index.grantIndexReadWrite(this.apiFunction);
    this.cursorSecret = this.createCursorSecret(props.removalPolicy);
    this.grantCursorSecret(this.apiFunction);

    this.scan = new ScanPipeline(this, 'Scan', {
      storage: this.storage,
      index: this.index,
      reservedConcurrentExecutions: props.scanReservedConcurrency,
    });
    // The AWS wiring (adapters/aws/deps.ts) builds the cursor codec for every function, scan included.
    this.grantCursorSecret(this.scan.function);

    // Provenance: only the scan role signs; the API lists public keys and hands versions available at
    // commit to the scan queue (adapters/aws/sqsProvenanceQueue.ts).
    this.signingKeys = new SigningKeys(this, 'SigningKeys', {
      signer: this.scan.function.role!,
      generations: props.signingKeyGenerations,
    });
    this.signingKeys.wireSigner(this.scan.function);
    this.signingKeys.grantReadPublicKeys(this.apiFunction);
    this.scan.queue.grantSendMessages(this.apiFunction);
    this.apiFunction.addEnvironment(ENV.scanQueueUrl, this.scan.queue.queueUrl);

    this.gc = new GarbageCollector(this, 'Gc', {
      storage: this.storage,
      index: this.index,
      schedule: props.gcSchedule,
      blobGraceHours: props.blobGraceHours,
      reservedConcurrentExecutions: props.gcReservedConcurrency,
      memorySize: props.gcMemorySize,
    });
    // GC signs the cursor it follows from one bounded slice to the next.
    this.grantCursorSecret(this.gc.function);

    this.api = new ArtifactApi(this, 'Api', {
      handler: this.apiFunction,
      throttlingRateLimit: props.throttlingRateLimit,
      throttlingBurstLimit: props.throttlingBurstLimit,
    });

    if (props.signingPublicKeyPem !== undefined) {
      this.cdn = new BlobCdn(this, 'Cdn', {
        storage: this.storage,
        publicKeyPem: props.signingPublicKeyPem,
        privateKeySecret: props.signingPrivateKeySecret,
        failoverBucket:
          replication && replicaName !== undefined
            ? s3.Bucket.fromBucketAttributes(this, 'ReplicaBucket', {
                bucketName: replicaName,
                region: replication.region,
              })
            : undefined,
      });
      this.cdn.grantSign(this.apiFunction);
    }

    this.events = new StoreEventBus(this, 'Events');
    for (const fn of [this.apiFunction, this.scan.function, this.gc.function]) this.events.grantEmit(fn);
    this.console = new ConsoleSite(this, 'Console', {
      api: this.api.bearerApi,
      logBucket: this.storage.logBucket,
    });

    this.observability = new StoreObservability(this, 'Observability', {
      api: this.api,
      scan: this.scan,
      gc: this.gc,
      storage: this.storage,
      alarmTopic: props.alarmTopic,
      alarmTopicArn: props.alarmTopicArn,
    });
    if (props.githubRepository !== undefined)
      this.ciRole = new GitHubCiRole(this, 'GitHubCi', {
        api: this.api,
        repository: props.githubRepository,
        subjects: props.githubSubjects,
      });
    else if (props.githubSubjects !== undefined)
      throw new Error('githubSubjects needs githubRepository: there is no CI role to trust them');
    this.configureAccess(props);
  }

  /**
   * The deploy-time half of access, as the `api` function's environment: the store-wide admins and
   * the trusted OIDC issuers. Checked here with the parsers the function runs at cold start, so a
   * mistake fails the synth rather than the API. Every other binding lives in the index.
   */
  private configureAccess(props: ArtifactStoreProps): void {
    const admins = props.adminPrincipals ?? [];
    parseAdminPrincipals('adminPrincipals', admins.filter((arn) => !Token.isUnresolved(arn)).join(','));
    if (admins.length > 0) this.apiFunction.addEnvironment(ADMIN_PRINCIPALS_ENV, admins.join(','));

    const issuers = (props.oidcIssuers ?? []).map((issuer) => issuer.trim()).filter((i) => i !== '');
    for (const issuer of issuers) {
      // The variable is a comma-separated list: a comma would split one issuer in two.
      if (issuer.includes(',')) throw new Error(`oidcIssuers: issuer "${issuer}" must not contain a comma`);
      checkIssuerUrl(issuer, 'oidcIssuers: issuer');
    }
    if (issuers.length > 0) this.apiFunction.addEnvironment(ENV.oidcIssuers, issuers.join(','));
  }

  /**
   * Pagination cursors are HMAC-signed with this; functions get it as an environment variable
   * (resolved by CloudFormation at deploy, never in the template), as functions/config/env.ts prescribes.
   */
  public grantCursorSecret(fn: lambda.Function): void {
    fn.addEnvironment(ENV.cursorSecret, this.cursorSecret.secretValue.unsafeUnwrap());
  }

  private createCursorSecret(removalPolicy?: RemovalPolicy): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'CursorSecret', {
      description: 'Arca: HMAC key for pagination cursors',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating only invalidates open pagination cursors; it is done by replacing the secret and redeploying.',
    });
    return secret;
  }
}
