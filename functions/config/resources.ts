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
  /**
   * Each GSI (`name` is its role; its name on a table is in `INDEX_NAMES`) holds the table and index
   * keys plus `projected` (INCLUDE): the small attributes its readers filter, sort or answer on. Whole
   * items (a version's files, a session's, a token, a policy) are read from the table by key, so a
   * write to one pays its size once, not again per index, and a write that changes no projected
   * attribute writes no index. docs/table-design.md § GSI projections says which reader uses which.
   */
  globalIndexes: [
    /**
     * Versions of a package, newest commit first (gsi1pk = package, gsi1sk = commit order), and a
     * package's leases by expiry: a lease is answered from the index (every fetch reads them), a
     * version only filtered on `state` there.
     */
    {
      name: 'gsi1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
      projected: [
        'state',
        'version',
        'namespace',
        'package',
        'leaseId',
        'holder',
        'createdAt',
        'createdBy',
        'expiresAt',
      ],
    },
    /**
     * Work lists (gsi2pk = list, gsi2sk = order): sessions by expiry, blobs by state, tombstoned
     * versions, packages, tokens, policies. GC decides on the blob, version and package entries as
     * listed; sessions, tokens and policies are read whole from the table.
     */
    {
      name: 'gsi2',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
      projected: [
        'namespace',
        'package',
        'version',
        'state',
        'tombstonedAt',
        'sha256',
        'refcount',
        'unreferencedSince',
      ],
    },
  ],
} as const;

/**
 * The GSIs' names, by layout. `minimal`: the projections of `TABLE_SCHEMA` under names of their own.
 * `all`: a table created before them, whose `gsi1` and `gsi2` project ALL. DynamoDB cannot change an
 * existing GSI's projection, so such a store moves to the minimal indexes by adding them one at a time
 * and then dropping the old ones (docs/deploy.md § 8); the functions query the layout they are told
 * (`ARCA_INDEX_LAYOUT`), and read whole items from the table either way.
 */
export const INDEX_NAMES = {
  minimal: { gsi1: 'gsi1k', gsi2: 'gsi2k' },
  all: { gsi1: 'gsi1', gsi2: 'gsi2' },
} as const;

export type IndexLayout = keyof typeof INDEX_NAMES;

/** The physical name of each GSI role of `TABLE_SCHEMA`. */
export interface IndexNames {
  readonly gsi1: string;
  readonly gsi2: string;
}

/** `ARCA_INDEX_LAYOUT`: `minimal` when unset; anything but `minimal` or `all` is refused. */
export function indexLayout(value: string | undefined): IndexLayout {
  if (value === undefined || value === '' || value === 'minimal') return 'minimal';
  if (value === 'all') return 'all';
  throw new Error(`ARCA_INDEX_LAYOUT must be 'minimal' or 'all', got '${value}'`);
}

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
