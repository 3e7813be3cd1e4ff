import { Duration, type RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';

/** One step down the storage-class ladder for `blobs/`. */
export interface BlobTier {
  /** Storage class the objects move to. Only millisecond-read classes: a rollback never waits on a restore. */
  readonly storageClass: s3.StorageClass;
  /** Age (since creation) at which objects move. */
  readonly after: Duration;
}

/** How `blobs/` and `staging/` age. */
export interface BlobLifecycleOptions {
  /**
   * Transitions for `blobs/`, youngest first.
   * @default - STANDARD_IA after 30 days, GLACIER_INSTANT_RETRIEVAL after 90 days
   */
  readonly tiers?: readonly BlobTier[];
  /**
   * Objects at or below this size never transition. Each object pays $0.01 per 1,000 to reach
   * STANDARD_IA and $0.02 per 1,000 to reach GLACIER_IR, once; an object of 1 MiB earns that back in
   * about four months, one of 256 KiB in over a year (cost model in docs/deploy.md). IA and Glacier IR
   * also bill at least 128 KiB per object, the floor this may not go under.
   * @default Size.mebibytes(1)
   */
  readonly minimumTransitionSize?: Size;
  /**
   * Noncurrent versions (left by overwrites and GC deletes) expire after this long.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;
}

export const DEFAULT_TIERS: readonly BlobTier[] = [
  { storageClass: s3.StorageClass.INFREQUENT_ACCESS, after: Duration.days(30) },
  { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, after: Duration.days(90) },
];

const S3_MINIMUM_TRANSITION_SIZE = Size.kibibytes(128);
/** Where the two transitions pay for themselves within about four months (docs/deploy.md). */
export const DEFAULT_MINIMUM_TRANSITION_SIZE = Size.mebibytes(1);

/** Classes whose objects S3 must keep 30 days before the next transition (and ≥ 30 days after creation). */
const THIRTY_DAY_CLASSES = new Set<string>([
  s3.StorageClass.INFREQUENT_ACCESS.value,
  s3.StorageClass.ONE_ZONE_INFREQUENT_ACCESS.value,
]);

/** Millisecond-read classes; GLACIER and DEEP_ARCHIVE need a restore, which a rollback cannot wait for. */
const INSTANT_CLASSES = new Set<string>([
  ...THIRTY_DAY_CLASSES,
  s3.StorageClass.INTELLIGENT_TIERING.value,
  s3.StorageClass.GLACIER_INSTANT_RETRIEVAL.value,
]);

/**
 * Checks the tiers against S3's rules at synth time, so a bad value fails `cdk synth` with a sentence
 * instead of failing the deploy half-way with an opaque lifecycle error.
 */
export function validateLifecycle(options: BlobLifecycleOptions): void {
  const tiers = options.tiers ?? DEFAULT_TIERS;
  let previous: BlobTier | undefined;
  for (const tier of tiers) {
    const name = tier.storageClass.value;
    const days = tier.after.toDays();
    if (!Number.isInteger(days) || days < 1)
      throw new Error(`blob tier ${name}: 'after' must be a whole number of days ≥ 1, got ${days}`);
    if (!INSTANT_CLASSES.has(name))
      throw new Error(
        `blob tier ${name}: only millisecond-read classes are allowed (${[...INSTANT_CLASSES].join(', ')})`,
      );
    if (THIRTY_DAY_CLASSES.has(name) && days < 30)
      throw new Error(`blob tier ${name}: S3 requires at least 30 days before this transition, got ${days}`);
    if (previous !== undefined) {
      const before = previous.after.toDays();
      if (days <= before)
        throw new Error(
          `blob tier ${name} (${days} d) must come after ${previous.storageClass.value} (${before} d)`,
        );
      if (THIRTY_DAY_CLASSES.has(previous.storageClass.value) && days < before + 30)
        throw new Error(
          `blob tier ${name}: S3 requires at least 30 days in ${previous.storageClass.value} first, so 'after' must be ≥ ${before + 30} days, got ${days}`,
        );
    }
    previous = tier;
  }
  const size = options.minimumTransitionSize ?? S3_MINIMUM_TRANSITION_SIZE;
  if (size.toBytes() < S3_MINIMUM_TRANSITION_SIZE.toBytes())
    throw new Error(
      `minimumTransitionSize must be ≥ 128 KiB (S3's minimum billable object size), got ${size.toBytes()} bytes`,
    );
  const noncurrent = options.noncurrentVersionExpiration?.toDays() ?? 30;
  if (!Number.isInteger(noncurrent) || noncurrent < 1)
    throw new Error(`noncurrentVersionExpiration must be a whole number of days ≥ 1, got ${noncurrent}`);
}

/** The bucket's lifecycle rules: staging is a scratch area, blobs age down the tiers. */
export function lifecycleRules(options: BlobLifecycleOptions): s3.LifecycleRule[] {
  validateLifecycle(options);
  const tiers = options.tiers ?? DEFAULT_TIERS;
  const minimumSize = options.minimumTransitionSize ?? DEFAULT_MINIMUM_TRANSITION_SIZE;
  const rules: s3.LifecycleRule[] = [
    {
      id: 'staging-scratch',
      prefix: BUCKET_LAYOUT.stagingPrefix,
      expiration: Duration.days(BUCKET_LAYOUT.stagingExpirationDays),
      // Staged bytes are never restored: a deleted staged object's old version is garbage immediately.
      noncurrentVersionExpiration: Duration.days(1),
    },
    {
      // Bucket-wide: a scan killed mid-copy leaves billed parts of an UploadPartCopy under blobs/.
      id: 'abort-incomplete-multipart',
      abortIncompleteMultipartUploadAfter: Duration.days(BUCKET_LAYOUT.abortIncompleteMultipartDays),
    },
    {
      id: 'noncurrent-versions',
      noncurrentVersionExpiration: options.noncurrentVersionExpiration ?? Duration.days(30),
      expiredObjectDeleteMarker: true,
    },
  ];
  // An empty ladder keeps everything in STANDARD; S3 rejects a rule without an action.
  if (tiers.length > 0)
    rules.push({
      id: 'blobs-tiering',
      prefix: BUCKET_LAYOUT.blobPrefix,
      objectSizeGreaterThan: minimumSize.toBytes(),
      transitions: tiers.map((tier) => ({ storageClass: tier.storageClass, transitionAfter: tier.after })),
    });
  return rules;
}

/**
 * What the blob bucket and its replica share: versioned, encrypted (KMS when a key is given, with
 * Bucket Keys, which cut KMS request charges by ~99 % for busy buckets), TLS 1.2+ only, private,
 * owner-enforced, access-logged, and the same lifecycle tiers.
 */
export function blobBucketProps(props: {
  readonly encryptionKey?: kms.IKey;
  readonly logBucket: s3.IBucket;
  readonly lifecycle?: BlobLifecycleOptions;
  readonly removalPolicy: RemovalPolicy;
}): s3.BucketProps {
  return {
    versioned: true,
    encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: props.encryptionKey,
    bucketKeyEnabled: props.encryptionKey !== undefined,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: props.logBucket,
    serverAccessLogsPrefix: 's3/',
    lifecycleRules: lifecycleRules(props.lifecycle ?? {}),
    removalPolicy: props.removalPolicy,
  };
}
