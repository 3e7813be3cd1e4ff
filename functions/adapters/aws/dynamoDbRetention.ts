import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../../core/errors.ts';
import type { AuditEvent, Sha256, VersionDeletion, VersionRecord, VersionRef } from '../../ports.ts';
import { blobChange, blobFactsOf, later } from './dynamoDbBlobs.ts';
import { expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { atOrBefore, auditItem, keys, namespaceRefAttribute, workLists } from './dynamoDbItems.ts';
import { deleteVersionInStages, MAX_TRANSACTION_ITEMS } from './dynamoDbReferences.ts';
import type { DynamoTable } from './dynamoDbTable.ts';
import { readVersionItem, versionFileDeletes } from './dynamoDbVersionFiles.ts';

/** Condition of the final step on a version: still in the state read, listed at or before the cutoff. */
const stillDue = '#state = :state AND #tombstonedAt <= :cutoff';

/** deleteVersion rebuilds this many times when racing commits keep moving its blobs' refcounts. */
const MAX_REBUILDS = 10;

/**
 * Retention's writes on versions: tombstone, restore, and the final delete that drops blob
 * references. The tombstone's whole protection check is one ConditionExpression on the version item,
 * which promotions (`pointedBy`) and leases (`leaseUntil`) keep up to date in their own transactions.
 */
export class DynamoDbRetention {
  constructor(private readonly table: DynamoTable) {}

  private auditPut(audit: AuditEvent): TransactWriteItem {
    return { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } };
  }

  async tombstoneVersion(ref: VersionRef, reason: string, now: Date, audit: AuditEvent): Promise<boolean> {
    const at = now.toISOString();
    const failed = await this.table.transact([
      {
        Update: {
          TableName: this.table.name,
          Key: toAttributes(keys.version(ref.namespace, ref.package, ref.version)),
          ...updateExpression({
            update:
              'SET #state = :deleting, #tombstonedAt = :now, #tombstoneReason = :reason, #gsi2pk = :list, #gsi2sk = :order',
            // An empty string set cannot exist in DynamoDB; `size` only guards emulators that keep one.
            condition:
              '#state = :live AND (attribute_not_exists(#pointedBy) OR size(#pointedBy) = :zero) ' +
              'AND (attribute_not_exists(#leaseUntil) OR #leaseUntil <= :now)',
            values: {
              ':deleting': 'deleting',
              ':now': at,
              ':reason': reason,
              ':list': workLists.tombstoned,
              ':order': `${at}#${ref.namespace}#${ref.package}#${ref.version}`,
              ':live': 'live',
              ':zero': 0,
            },
          }),
        },
      },
      this.auditPut(audit),
    ]);
    return failed === null;
  }

  /**
   * The tombstone's conditions, from live or deleting, to `deleted`: the version goes on the
   * tombstoned list so GC drops its references. Promotions and leases are conditioned on `live`.
   */
  async markVersionDeleted(
    ref: VersionRef,
    deletion: VersionDeletion,
    now: Date,
    audit: AuditEvent,
  ): Promise<boolean> {
    const failed = await this.table.transact([
      {
        Update: {
          TableName: this.table.name,
          Key: toAttributes(keys.version(ref.namespace, ref.package, ref.version)),
          ...updateExpression({
            update:
              'SET #state = :deleted, #deletion = :deletion, #tombstonedAt = :at, #gsi2pk = :list, #gsi2sk = :order',
            condition:
              '(#state = :live OR #state = :deleting) ' +
              'AND (attribute_not_exists(#pointedBy) OR size(#pointedBy) = :zero) ' +
              'AND (attribute_not_exists(#leaseUntil) OR #leaseUntil <= :now)',
            values: {
              ':deleted': 'deleted',
              ':deletion': deletion,
              ':at': deletion.at,
              ':list': workLists.tombstoned,
              ':order': `${deletion.at}#${ref.namespace}#${ref.package}#${ref.version}`,
              ':live': 'live',
              ':deleting': 'deleting',
              ':now': now.toISOString(),
              ':zero': 0,
            },
          }),
        },
      },
      this.auditPut(audit),
    ]);
    return failed === null;
  }

  async restoreVersion(ref: VersionRef, audit: AuditEvent): Promise<void> {
    const failed = await this.table.transact([
      {
        Update: {
          TableName: this.table.name,
          Key: toAttributes(keys.version(ref.namespace, ref.package, ref.version)),
          ...updateExpression({
            update: 'SET #state = :live REMOVE #tombstonedAt, #tombstoneReason, #gsi2pk, #gsi2sk',
            // A version GC has started dropping references of (a large one, in stages) cannot return.
            condition: '#state = :deleting AND attribute_not_exists(#purging)',
            values: { ':live': 'live', ':deleting': 'deleting' },
          }),
        },
      },
      this.auditPut(audit),
    ]);
    if (failed)
      throw new NotFoundError(`no tombstoned version ${ref.namespace}/${ref.package}@${ref.version}`);
  }

  /** gsi2 `VERSIONS#deleting`, sorted by tombstone time; entries are re-checked against the item. */
  async listTombstoned(cutoff: Date, limit: number) {
    const bound = cutoff.toISOString();
    const items = await this.table.workList(workLists.tombstoned, atOrBefore(cutoff), limit);
    return items
      .filter((i) => (i.state === 'deleting' || i.state === 'deleted') && (i.tombstonedAt as string) <= bound)
      .map((i) => ({
        namespace: i.namespace as string,
        package: i.package as string,
        version: i.version as string,
        tombstonedAt: i.tombstonedAt as string,
        ...(i.state === 'deleted' ? { deleted: true } : {}),
      }));
  }

  /**
   * One transaction of 2 + (distinct blobs) (+ file items) items when that fits in 100 (else in
   * stages, `deleteVersionInStages`): the version delete (conditioned on tombstoned
   * at or before `cutoff`), the audit event, each blob's refcount lowered from the value read (a
   * racing commit makes that fail; this then re-reads), and the deletes of the version's file items
   * when it has them. A blob reaching 0 is unreferenced from `now`, or later if a session still
   * holds it.
   */
  async deleteVersion(ref: VersionRef, cutoff: Date, now: Date, audit: AuditEvent): Promise<boolean> {
    const key = keys.version(ref.namespace, ref.package, ref.version);
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const found = await readVersionItem(this.table, ref);
      const tombstonedAt = found?.tombstonedAt as string | undefined;
      if (!found || tombstonedAt === undefined || tombstonedAt > cutoff.toISOString()) return false;
      if (found.state !== 'deleting' && found.state !== 'deleted') return false;
      const refs = new Map<Sha256, number>();
      for (const f of found.files as VersionRecord['files'])
        refs.set(f.sha256, (refs.get(f.sha256) ?? 0) + 1);
      const fileDeletes = versionFileDeletes(this.table.name, found);
      if (refs.size + 2 + fileDeletes.length > MAX_TRANSACTION_ITEMS)
        return deleteVersionInStages(this.table, found, cutoff, now, this.auditPut(audit));
      const blobs = (await this.table.getMany([...refs.keys()].map(keys.blob))).map((i) => blobFactsOf(i)!);
      const failed = await this.table.transact([
        found.state === 'deleted' ? this.purgeDeleted(key, cutoff) : this.deleteTombstoned(key, cutoff),
        this.auditPut(audit),
        ...fileDeletes,
        ...blobs.map((read) => {
          const refcount = Math.max(0, read.refcount - refs.get(read.sha256)!);
          const since =
            refcount === 0 ? later(read.unreferencedSince, now.toISOString()) : read.unreferencedSince;
          const dropped = refs.get(read.sha256)!;
          return blobChange(
            this.table.name,
            read,
            { ...read, refcount, unreferencedSince: since },
            { add: { [namespaceRefAttribute(ref.namespace)]: -dropped } },
          );
        }),
      ]);
      if (!failed) return true;
      if (failed[0]?.code === 'ConditionalCheckFailed') return false;
    }
    return false;
  }

  private deleteTombstoned(key: Record<string, string>, cutoff: Date): TransactWriteItem {
    return {
      Delete: {
        TableName: this.table.name,
        Key: toAttributes(key),
        ...expression({
          condition: stillDue,
          values: { ':state': 'deleting', ':cutoff': cutoff.toISOString() },
        }),
      },
    };
  }

  /**
   * A deleted version's item stays (its number is never published again), without its files: an
   * empty list inside it, its file items (if any) deleted in the same transaction.
   */
  private purgeDeleted(key: Record<string, string>, cutoff: Date): TransactWriteItem {
    return {
      Update: {
        TableName: this.table.name,
        Key: toAttributes(key),
        ...updateExpression({
          update: 'SET #files = :none REMOVE #tombstonedAt, #gsi2pk, #gsi2sk, #fileItems',
          condition: stillDue,
          values: { ':none': [], ':state': 'deleted', ':cutoff': cutoff.toISOString() },
        }),
      },
    };
  }
}
