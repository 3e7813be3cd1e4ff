import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IndexTableLayout } from './indexTable.ts';
import type { BlobLifecycleOptions } from './lifecycle.ts';
import type { BlobEncryption } from './storage.ts';

/** The second region, whose bucket `BlobReplica` (the `ArcaReplica` stack) creates. */
export interface ArtifactStoreReplicationProps {
  /** Region of the replica bucket; must differ from the store's. */
  readonly region: string;
  /**
   * Name of the replica bucket: `BlobReplica.bucket.bucketName`, which CloudFormation generates and
   * the app passes across regions (`Fn::GetStackOutput`), so no name is fixed.
   */
  readonly bucketName: string;
  /** ARN of the replica region's KMS key; required with `BlobEncryption.KMS`. @default - SSE-S3 */
  readonly kmsKeyArn?: string;
  /**
   * Storage class replicas are written in (read only on a failover).
   * @default s3.StorageClass.INFREQUENT_ACCESS
   */
  readonly storageClass?: s3.StorageClass;
  /** S3 Replication Time Control (15-minute SLA, extra per-GB charge). @default false */
  readonly replicationTimeControl?: boolean;
  /** Also make the index a global table with a replica in this region. @default false */
  readonly replicateIndex?: boolean;
}

/** Every deploy-time setting of the store; each is also a context key of the app (infra/arcaApp.ts). */
export interface ArtifactStoreProps {
  /** Bring your own blob bucket (see `BlobStorageProps.bucket` for what you then own). @default - a new bucket */
  readonly bucket?: s3.IBucket;
  /** Bring your own index table, with Arca's key schema and GSIs. @default - a new on-demand table */
  readonly table?: dynamodb.ITableV2;
  /**
   * The index table's GSIs (`IndexTableProps.indexLayout`): `all` for a store whose table was created
   * before the minimal projections, `migrate-1` … `migrate-4` to move it over (docs/deploy.md § 8).
   * @default 'minimal'
   */
  readonly indexLayout?: IndexTableLayout;
  /** Bring your own KMS key for the blob bucket. @default - a new key with `BlobEncryption.KMS` */
  readonly encryptionKey?: kms.IKey;
  /** @default BlobEncryption.S3_MANAGED */
  readonly encryption?: BlobEncryption;
  /** Tiers and version expiry of `blobs/`. @default - STANDARD_IA (30 d) → GLACIER_IR (90 d), objects > 1 MiB */
  readonly lifecycle?: BlobLifecycleOptions;
  /** Cross-region copy of `blobs/` and CloudFront failover to it. @default - single region */
  readonly replication?: ArtifactStoreReplicationProps;
  /**
   * CloudFront signed downloads. Without it `api` hands out S3 presigned GETs.
   * @default true
   */
  readonly cdn?: boolean;
  /**
   * Generation of the CloudFront key pair made inside AWS at deploy; +1 rotates it (docs/deploy.md).
   * @default 1
   */
  readonly cdnKeyGeneration?: number;
  /**
   * A CloudFront public key (PEM) of your own instead of the generated pair; put the private key in
   * `signingPrivateKeySecret` (or the secret created for it) after deploy.
   * @default - the generated pair
   */
  readonly signingPublicKeyPem?: string;
  /** Existing secret with the private key matching `signingPublicKeyPem`. @default - a new secret */
  readonly signingPrivateKeySecret?: secretsmanager.ISecret;
  /** @default cloudfront.PriceClass.PRICE_CLASS_100 */
  readonly priceClass?: cloudfront.PriceClass;
  /** Custom domain names of the distribution; needs `certificate`. @default - *.cloudfront.net */
  readonly domainNames?: readonly string[];
  /** ACM certificate in us-east-1 covering `domainNames`. @default - none */
  readonly certificate?: acm.ICertificate;
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
  /** Memory of `scan`. @default 1769 (one vCPU) */
  readonly scanMemorySize?: number;
  /**
   * ClamAV in the scan (docs/scanning.md § ClamAV on AWS): the scan function becomes a container
   * image with clamd (infra/clamav/Dockerfile, built by `cdk deploy`, so Docker is needed then), its
   * definitions live in a bucket a scheduled freshclam function refreshes, and `scanMemorySize`
   * defaults to 3008. @default false
   */
  readonly clamav?: boolean;
  /**
   * The OSV advisory database, `s3://bucket/key.zip` (a zip of OSV JSON you keep up to date): scan
   * and api read it (`ARCA_OSV_DB`, `s3:GetObject` on that object), and a scheduled function matches
   * kept SBOMs against it again when it changes. @default - no vulnerability matching
   */
  readonly osvDatabase?: string;
  /** Staged objects per scan invocation; the largest file accepted is divided by it. @default 1 */
  readonly scanBatchSize?: number;
  /** Most scan instances the queue trigger runs at once (2–1000). @default 100 */
  readonly scanMaxConcurrency?: number;
  /**
   * How often GC runs (EventBridge); keep it above GC's 15-minute timeout.
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly gcSchedule?: events.Schedule;
  /** Not needed for exclusivity (a `LOCK#gc` item in the index). @default - unreserved */
  readonly gcReservedConcurrency?: number;
  /** @default 512 */
  readonly gcMemorySize?: number;
  /** Hours a blob stays unreferenced before GC deletes its bytes. @default 24 */
  readonly blobGraceHours?: number;
  /** Steady-state API requests per second, per API. @default 1000 */
  readonly throttlingRateLimit?: number;
  /** @default 2000 */
  readonly throttlingBurstLimit?: number;
  /** Retention of every function's log and the API access log. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Where alarms notify. @default - a new SNS topic (output `AlarmTopicArn`; subscribe to it) */
  readonly alarmTopic?: sns.ITopic;
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
   * The account's GitHub OIDC provider, when it exists already (an account has one per URL).
   * @default - a new provider for token.actions.githubusercontent.com
   */
  readonly githubOidcProvider?: iam.IOidcProvider;
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
