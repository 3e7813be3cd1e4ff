import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { AuditEvent, Sha256, StoredSession } from '../../ports.ts';
import { conditionExpression, expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { atOrBefore, auditItem, BLOB_SHARDS, keys, workLists } from './dynamoDbItems.ts';
import { releaseSessionReferences } from './dynamoDbReferences.ts';
import { readSession } from './dynamoDbSessions.ts';
import type { DynamoTable } from './dynamoDbTable.ts';

/** Conditional single-blob writes in flight at once: enough to hide latency, not enough to throttle. */
const CONCURRENCY = 16;
/** Blobs forgotten per transaction: a delete and an audit event each, within DynamoDB's 100 items. */
const FORGET_BATCH = 50;

async function mapConcurrently<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}

/**
 * GC's work lists and its conditional steps on sessions and blobs. Lists come from gsi2 (eventually
 * consistent), so every entry is re-checked and every step is a conditional write: an entry that
 * moved on since the list was read simply does not apply.
 */
export class DynamoDbGc {
  constructor(private readonly table: DynamoTable) {}

  /** One item; its conditional write is the whole check: free, expired, or already this holder's. */
  acquireGcLock(holder: string, now: Date, until: Date): Promise<boolean> {
    return this.table.update({
      TableName: this.table.name,
      Key: toAttributes(keys.gcLock()),
      ...updateExpression({
        update: 'SET #kind = :lock, #holder = :holder, #expiresAt = :until',
        condition: 'attribute_not_exists(#pk) OR #expiresAt <= :now OR #holder = :holder',
        values: {
          ':lock': 'lock',
          ':holder': holder,
          ':until': until.toISOString(),
          ':now': now.toISOString(),
        },
      }),
    });
  }

  async releaseGcLock(holder: string | null): Promise<void> {
    await this.table.delete({
      Key: toAttributes(keys.gcLock()),
      ...(holder === null
        ? {}
        : expression({ condition: '#holder = :holder', values: { ':holder': holder } })),
    });
  }

  async getGcPosition(): Promise<string | null> {
    const item = await this.table.get(keys.gcPosition());
    return typeof item?.position === 'string' ? item.position : null;
  }

  /** The position item, written with a check that `holder` still holds the lock item. */
  async saveGcPosition(holder: string, position: string | null): Promise<boolean> {
    const failed = await this.table.transact([
      {
        ConditionCheck: {
          TableName: this.table.name,
          Key: toAttributes(keys.gcLock()),
          ...conditionExpression({ condition: '#holder = :holder', values: { ':holder': holder } }),
        },
      },
      {
        Put: {
          TableName: this.table.name,
          Item: toAttributes({
            ...keys.gcPosition(),
            kind: 'gcPosition',
            ...(position === null ? {} : { position }),
          }),
        },
      },
    ]);
    return failed === null;
  }

  /**
   * The shards of gsi2 `SESSIONS#open` sort by `<expiresAt>#<uploadId>`: below `now` is "expired
   * before now". Read in parallel and merged, earliest expiry first; the list holds the sessions'
   * keys, so the earliest `limit` are read from the table and re-checked there.
   */
  async listExpiredSessions(now: Date, limit: number): Promise<StoredSession[]> {
    const shards = await Promise.all(
      workLists.openSessionShards.map((list) => this.table.workList(list, now.toISOString(), limit)),
    );
    const earliest = shards
      .flat()
      .sort((a, b) => ((a.gsi2sk as string) < (b.gsi2sk as string) ? -1 : 1))
      .slice(0, limit);
    // An entry carries keys and GC fields only: the session and its files (the staged keys to
    // delete, items of their own) are read from the table, one snapshot each.
    const prefix = keys.session('').pk;
    const sessions = await Promise.all(
      earliest.map((item) => readSession(this.table, (item.pk as string).slice(prefix.length))),
    );
    return sessions.filter((s): s is StoredSession => s?.state === 'open' && s.expiresAt < now.toISOString());
  }

  async expireSession(uploadId: string, now: Date, audit: AuditEvent): Promise<boolean> {
    const failed = await this.table.transact([
      {
        Update: {
          TableName: this.table.name,
          Key: toAttributes(keys.session(uploadId)),
          ...updateExpression({
            update: 'SET #state = :aborted, #revision = #revision + :one REMOVE #gsi2pk, #gsi2sk',
            condition: '#state = :open AND #expiresAt < :now',
            values: { ':aborted': 'aborted', ':one': 1, ':open': 'open', ':now': now.toISOString() },
          }),
        },
      },
      { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
    ]);
    // A commit killed part-way may have taken references for this session: they are nobody's now.
    if (failed === null) await releaseSessionReferences(this.table, uploadId, now);
    return failed === null;
  }

  /**
   * Reads the 16 shards of the unreferenced-blob list in parallel, each up to `limit` entries at or
   * before `cutoff`, and merges them oldest first.
   */
  async listDeletableBlobs(cutoff: Date, limit: number): Promise<Sha256[]> {
    const bound = cutoff.toISOString();
    const shards = await Promise.all(
      BLOB_SHARDS.map((shard) =>
        this.table.workList(workLists.unreferencedBlobs(shard), atOrBefore(cutoff), limit),
      ),
    );
    return shards
      .flat()
      .filter((b) => b.refcount === 0 && b.state !== 'deleting' && (b.unreferencedSince as string) <= bound)
      .sort((a, b) => ((a.gsi2sk as string) < (b.gsi2sk as string) ? -1 : 1))
      .slice(0, limit)
      .map((b) => b.sha256 as Sha256);
  }

  /**
   * One conditional UpdateItem per blob, run concurrently: a transaction would fail as a whole when a
   * single blob was taken back by a commit, and each blob's mark stands on its own.
   */
  async markBlobsDeleting(sha256s: readonly Sha256[], cutoff: Date): Promise<Sha256[]> {
    const marked = await mapConcurrently(sha256s, (sha) =>
      this.table.update({
        TableName: this.table.name,
        Key: toAttributes(keys.blob(sha)),
        ...updateExpression({
          update: 'SET #state = :deleting, #gsi2pk = :list, #gsi2sk = :sha',
          condition: '#refcount = :zero AND #unreferencedSince <= :cutoff AND #state <> :deleting',
          values: {
            ':deleting': 'deleting',
            ':zero': 0,
            ':cutoff': cutoff.toISOString(),
            ':list': workLists.deletingBlobs(sha),
            ':sha': sha,
          },
        }),
      }),
    );
    return sha256s.filter((_, i) => marked[i]);
  }

  async listDeletingBlobs(limit: number): Promise<Sha256[]> {
    // Digests are lowercase hex: every sort key on these lists sorts below 'g'.
    const shards = await Promise.all(
      BLOB_SHARDS.map((shard) => this.table.workList(workLists.deletingBlobs(shard), 'g', limit)),
    );
    return shards
      .flat()
      .filter((b) => b.state === 'deleting')
      .slice(0, limit)
      .map((b) => b.sha256 as Sha256);
  }

  /**
   * Deletes blob items with an audit event each, 50 blobs to a transaction; a batch whose condition
   * failed somewhere is redone blob by blob, so the others are still forgotten.
   */
  async forgetBlobs(sha256s: readonly Sha256[], audit: (sha256: Sha256) => AuditEvent): Promise<void> {
    const unique = [...new Set(sha256s)];
    for (let at = 0; at < unique.length; at += FORGET_BATCH) {
      const batch = unique.slice(at, at + FORGET_BATCH);
      if (!(await this.table.transact(batch.flatMap((sha) => this.forget(sha, audit(sha)))))) continue;
      await mapConcurrently(batch, (sha) => this.table.transact(this.forget(sha, audit(sha))));
    }
  }

  private forget(sha256: Sha256, audit: AuditEvent): TransactWriteItem[] {
    return [
      {
        Delete: {
          TableName: this.table.name,
          Key: toAttributes(keys.blob(sha256)),
          ...expression({
            condition: '#state = :deleting AND #refcount = :zero',
            values: { ':deleting': 'deleting', ':zero': 0 },
          }),
        },
      },
      { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
    ];
  }
}
