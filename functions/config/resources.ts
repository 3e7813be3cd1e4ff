/**
 * One description of the AWS resources, used by both the CDK stack (`infra/`) and the provisioner
 * that creates them on an emulator (`functions/adapters/aws/provision.ts`), so the two cannot drift.
 */
export const DEFAULT_NAMES = {
  bucket: 'arca-blobs',
  table: 'arca-index',
  scanQueue: 'arca-scan',
} as const;

export const BUCKET_LAYOUT = {
  stagingPrefix: 'staging/',
  blobPrefix: 'blobs/sha256/',
  /** Lifecycle: staged bytes older than this are expired (sessions last 1 h). */
  stagingExpirationDays: 2,
  abortIncompleteMultipartDays: 1,
} as const;

export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** TTL attribute (epoch seconds) for sessions and leases. */
  ttlAttribute: 'ttl',
  globalIndexes: [
    /** Versions of a package, newest commit first (gsi1pk = package, gsi1sk = commit order). */
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /** Work lists: sessions by expiry, blobs by state, for GC (gsi2pk = list, gsi2sk = order). */
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
} as const;

export const QUEUE_SETTINGS = {
  /** Redeliveries before a message moves to the DLQ. */
  maxReceiveCount: 5,
  /** Must be ≥ 6× the scan function timeout (AWS's rule for SQS-triggered functions). */
  visibilityTimeoutSeconds: 5400,
  /** Lambda's maximum: the largest file the scan accepts is sized to it (infra/constructs/scanSizing.ts). */
  scanFunctionTimeoutSeconds: 900,
  dlqRetentionDays: 14,
  dlqSuffix: '-dlq',
} as const;
