import { RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  ADMIN_PRINCIPALS_ENV,
  IAM_ROLES_ENV,
  parseAdminPrincipals,
  parseRoleMap,
} from '../../functions/adapters/aws/lambdaPrincipal.ts';
import { ENV } from '../../functions/config/env.ts';
import type { Role } from '../../functions/core/model.ts';
import { ArtifactApi } from './api.ts';
import { BlobCdn } from './cdn.ts';
import { GitHubCiRole } from './ciRole.ts';
import { ArcaFunction, handlerEntry } from './functions.ts';
import { GarbageCollector } from './garbageCollector.ts';
import { IndexTable } from './indexTable.ts';
import type { BlobLifecycleOptions } from './lifecycle.ts';
import { StoreObservability } from './observability.ts';
import { REPLICA_KEY_ALIAS, replicaBucketName } from './replication.ts';
import { ScanPipeline } from './scanPipeline.ts';
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

/** What one IAM principal (or `*`, every other caller) may do: Arca roles per namespace (or `*`). */
export interface IamRoleGrant {
  readonly roles: Readonly<Record<string, readonly Role[]>>;
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
   * `owner/name` of a GitHub repository whose Actions may call the API through an OIDC role.
   * @default - no CI role
   */
  readonly githubRepository?: string;
  /**
   * Namespaces the GitHub CI role may publish to and promote in (`write` and `promote` there, nothing
   * else). Only with `githubRepository`.
   * @default - none: the CI role can call the API but every route but health answers it 403
   */
  readonly githubNamespaces?: readonly string[];
  /**
   * Store-wide administrators (GC, audit, namespace policies, restore, every namespace): IAM role or
   * user ARNs (`ARCA_ADMIN_PRINCIPALS`). A role ARN matches every session of the role. Nobody else
   * is an admin, whatever IAM lets them invoke.
   * @default - none: no caller can run admin routes until one is named here
   */
  readonly adminPrincipals?: readonly string[];
  /**
   * Arca roles of IAM callers, keyed by principal ARN or `*` for every caller not listed
   * (`ARCA_IAM_ROLES`, format in functions/adapters/aws/lambdaPrincipal.ts). `*` may not hold `admin`.
   * A caller matching no key holds no role: 403 on every route but health.
   * @default - none: IAM callers hold roles only through `githubNamespaces` (the CI role) or `adminPrincipals`
   */
  readonly iamRoles?: Readonly<Record<string, IamRoleGrant>>;
  /** Bucket, table, keys and secrets. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Arca: a serverless artifact store. A blob bucket with tiers and replication, a DynamoDB index,
 * the `api` function behind an IAM-authorised HTTP API, the `scan` pipeline, scheduled `gc`,
 * CloudFront signed downloads, alarms and a dashboard.
 */
export class ArtifactStore extends Construct {
  public readonly storage: BlobStorage;
  public readonly index: IndexTable;
  public readonly apiFunction: lambda.Function;
  public readonly api: ArtifactApi;
  public readonly scan: ScanPipeline;
  public readonly gc: GarbageCollector;
  public readonly cdn?: BlobCdn;
  public readonly observability: StoreObservability;
  public readonly ciRole?: GitHubCiRole;
  public readonly cursorSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
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

    this.observability = new StoreObservability(this, 'Observability', {
      api: this.api,
      scan: this.scan,
      gc: this.gc,
      storage: this.storage,
      alarmTopic: props.alarmTopic,
    });
    if (props.githubRepository !== undefined)
      this.ciRole = new GitHubCiRole(this, 'GitHubCi', {
        api: this.api,
        repository: props.githubRepository,
        namespaces: props.githubNamespaces,
      });
    else if (props.githubNamespaces?.length)
      throw new Error('githubNamespaces needs githubRepository: there is no CI role to grant them to');
    this.bindCallers(props);
  }

  /**
   * Who may do what inside Arca, as the `api` function's environment; checked here with the parser
   * the function runs at cold start, so a mistake fails the synth rather than the API.
   */
  private bindCallers(props: ArtifactStoreProps): void {
    const admins = props.adminPrincipals ?? [];
    parseAdminPrincipals('adminPrincipals', admins.filter((arn) => !Token.isUnresolved(arn)).join(','));
    if (admins.length > 0) this.apiFunction.addEnvironment(ADMIN_PRINCIPALS_ENV, admins.join(','));

    const roles: Record<string, IamRoleGrant> = { ...props.iamRoles };
    parseRoleMap('iamRoles', JSON.stringify(roles));
    if (this.ciRole && Object.keys(this.ciRole.arcaRoles).length > 0)
      roles[this.ciRole.role.roleArn] = { roles: this.ciRole.arcaRoles };
    if (Object.keys(roles).length > 0)
      this.apiFunction.addEnvironment(IAM_ROLES_ENV, Stack.of(this).toJsonString(roles));
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
