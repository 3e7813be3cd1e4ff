import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listedPut } from '../../functions/adapters/aws/dynamoDbCommit.ts';
import { toAttributes } from '../../functions/adapters/aws/dynamoDbExpression.ts';
import type { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { type Item, keys, namespaceRefAttribute } from '../../functions/adapters/aws/dynamoDbItems.ts';
import { searchItems } from '../../functions/adapters/aws/dynamoDbSearch.ts';
import { versionItems } from '../../functions/adapters/aws/dynamoDbVersionFiles.ts';
import { blobKeyOf } from '../../functions/adapters/aws/s3BlobStore.ts';
import type { AuditEvent, VersionRecord } from '../../functions/ports.ts';
import { seededPackage, seededSha, VERSIONS_PER_PACKAGE } from './gcScaleSeed.ts';

/** BatchWriteItem's limit of items per request. */
const BATCH = 25;
/** Requests in flight: enough to keep moto (or a real table) busy from one Node process. */
const DEFAULT_CONCURRENCY = 16;
/** The scan report a clean verdict leaves on the blob item (recordScan of a verified file). */
const CLEAN = { status: 'clean', findings: [] } as const;
/** How long after its commit the seeded session would have expired: the blob's hold runs until then. */
const SESSION_MS = 3_600_000;

/**
 * Version `i` of the scale seed, as the SQLite seeder writes it (gcScaleSeed.ts): package
 * `i / VERSIONS_PER_PACKAGE`, committed at `then` plus a minute per position in its package, one
 * 32-byte file with its own blob.
 */
export function seededVersionRecord(i: number, then: Date): VersionRecord {
  const at = new Date(then.getTime() + (i % VERSIONS_PER_PACKAGE) * 60_000).toISOString();
  return {
    namespace: 'scale',
    package: seededPackage(Math.floor(i / VERSIONS_PER_PACKAGE)),
    version: `1.0.${i % VERSIONS_PER_PACKAGE}`,
    state: 'live',
    createdAt: at,
    createdBy: 'seed',
    uploadId: `seed-${i}`,
    metadata: {},
    files: [{ name: 'app.bin', sha256: seededSha(i), size: 32, mediaType: 'application/octet-stream' }],
  };
}

/**
 * The blob item a commit and a clean scan leave (dynamoDbCommit.ts `blobReference`, then
 * dynamoDbScan.ts `blobUpdate`): available, one reference from the version's namespace, held until
 * the session's expiry, off every work list. These two are update expressions, not item builders,
 * so this is the one item assembled here; test/integration/gcScale.aws.test.ts compares it
 * attribute by attribute with the item a real commit and scan leave.
 */
export function committedBlobItem(v: VersionRecord, sessionExpiresAt: string): Item {
  const file = v.files[0]!;
  return {
    ...keys.blob(file.sha256),
    kind: 'blob',
    sha256: file.sha256,
    size: file.size,
    state: 'available',
    refcount: 1,
    [namespaceRefAttribute(v.namespace)]: 1,
    createdAt: v.createdAt,
    unreferencedSince: sessionExpiresAt,
    scan: CLEAN,
  };
}

/**
 * Every item a commit of version `i` (and the clean scan of its file) leaves that GC reads: the
 * version (`versionItems`), its search entries (`searchItems`), its blob, and for a package's first
 * version the package's work-list entry (`listedPut`). The committed session and the commit's audit
 * event are left out, as the SQLite seeder leaves them out: no GC phase reads either.
 */
export function seededItems(table: string, i: number, then: Date): Record<string, AttributeValue>[] {
  const v = seededVersionRecord(i, then);
  const expires = new Date(Date.parse(v.createdAt) + SESSION_MS).toISOString();
  return [
    ...versionItems(v).map(toAttributes),
    ...searchItems(v).map(toAttributes),
    toAttributes(committedBlobItem(v, expires)),
    ...(i % VERSIONS_PER_PACKAGE === 0 ? [listedPut(table, v.namespace, v.package).Put!.Item!] : []),
  ];
}

export interface DynamoDbSeedOptions {
  /**
   * A client whose writes are not queued behind the index's (`serializeWrites`): the seed's puts
   * each name a key of their own, so they may run concurrently.
   */
  readonly dynamodb: DynamoDBClient;
  /** The index on the same table: protection goes through its own promote and lease writes. */
  readonly index: DynamoDbIndex;
  readonly table: string;
  readonly count: number;
  readonly committedAt: Date;
  readonly leaseUntil: Date;
  /** Packages whose oldest version is promoted to prod, and as many after them leased. */
  readonly protectedPackages: number;
  readonly concurrency?: number;
  /** Called after each batch with how many versions have been handed to the writers so far. */
  readonly progress?: (versions: number) => void;
}

/**
 * Seeds `count` versions with BatchWriteItem of the exact items the adapter writes (a commit per
 * version would take hours on moto), in the SQLite seeder's shapes. The protected packages are
 * written first and protected through the index's own `promote` and `acquireLease` (their items
 * carry `pointedBy` and `leaseUntil` as those transactions leave them), while the table is still
 * small: moto copies the whole table for every transaction item. Answers the items written.
 */
export async function seedScaleVersionsDynamoDb(options: DynamoDbSeedOptions): Promise<number> {
  const { count, protectedPackages } = options;
  const first = Math.min(count, 2 * protectedPackages * VERSIONS_PER_PACKAGE);
  let items = await writeVersions(options, 0, first);
  await protect(options);
  items += await writeVersions(options, first, count);
  return items;
}

async function writeVersions(options: DynamoDbSeedOptions, from: number, to: number): Promise<number> {
  const { dynamodb, table, committedAt } = options;
  let next = from;
  let written = 0;
  const worker = async () => {
    let pending: Record<string, AttributeValue>[] = [];
    for (;;) {
      while (pending.length < BATCH && next < to) pending.push(...seededItems(table, next++, committedAt));
      if (pending.length === 0) return;
      const batch = pending.slice(0, BATCH);
      pending = pending.slice(BATCH);
      await putBatch(dynamodb, table, batch);
      written += batch.length;
      options.progress?.(next);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? DEFAULT_CONCURRENCY }, worker));
  return written;
}

/** One BatchWriteItem, with what the table left unprocessed sent again after a short wait. */
async function putBatch(
  dynamodb: DynamoDBClient,
  table: string,
  items: readonly Record<string, AttributeValue>[],
): Promise<void> {
  let requests: WriteRequest[] = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    const res = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
    requests = res.UnprocessedItems?.[table] ?? [];
  }
}

const seedAudit = (action: string, target: string, at: Date): AuditEvent => ({
  at: at.toISOString(),
  actor: 'seed',
  action,
  namespace: 'scale',
  target,
  requestId: 'seed',
});

/** The oldest version of the first packages promoted to prod, of as many after them leased. */
async function protect(options: DynamoDbSeedOptions): Promise<void> {
  const { index, committedAt: then, leaseUntil, count } = options;
  const fullPackages = Math.floor(count / VERSIONS_PER_PACKAGE);
  const { protectedPackages } = options;
  for (let p = 0; p < Math.min(protectedPackages, fullPackages); p++) {
    const pkg = seededPackage(p);
    await index.promote(
      {
        namespace: 'scale',
        package: pkg,
        version: '1.0.0',
        stage: 'prod',
        now: then,
        by: 'seed',
        immutable: false,
      },
      seedAudit('version.promote', `scale/${pkg}@1.0.0`, then),
    );
    const leased = seededPackage(protectedPackages + p);
    if (protectedPackages + p >= fullPackages) continue;
    await index.acquireLease(
      {
        leaseId: `lease-${protectedPackages + p}`,
        namespace: 'scale',
        package: leased,
        version: '1.0.0',
        holder: 'deploy',
        createdAt: then.toISOString(),
        createdBy: 'seed',
        expiresAt: leaseUntil.toISOString(),
      },
      seedAudit('lease.acquire', `scale/${leased}@1.0.0`, then),
    );
  }
}

/**
 * The bytes of the `count` seeded blobs in the store's bucket, where the scan worker would have
 * moved them (`blobKeyOf`); content is not the point, so every object holds the same 32 bytes.
 */
export async function putSeededBlobs(
  s3: S3Client,
  bucket: string,
  count: number,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<void> {
  const body = Buffer.alloc(32);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const key = blobKeyOf(seededSha(next++));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
