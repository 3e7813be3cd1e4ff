import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { Sha256 } from '../../ports.ts';
import { type BlobFacts, blobChange, blobFactsOf, later } from './dynamoDbBlobs.ts';
import { expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { type Item, keys, namespaceRefAttribute } from './dynamoDbItems.ts';
import { readSession } from './dynamoDbSessions.ts';
import type { DynamoTable } from './dynamoDbTable.ts';
import { versionFileDeletes } from './dynamoDbVersionFiles.ts';

/**
 * Blob references of a version too big for one transaction (DynamoDB takes at most 100 items):
 * they are taken, or dropped, a batch at a time, each batch one transaction together with a mark on
 * the item that owns them (the session while committing, the version while GC deletes it), so a
 * retried or resumed step never counts a batch twice. Visibility still switches in one small
 * transaction of its own: taking references first only ever keeps blobs longer, never shorter.
 */

/** Blob updates per batch, leaving room for the owner's mark (and a commit's few other items). */
export const REFERENCE_BATCH = 90;
/** Items a transaction may hold. */
export const MAX_TRANSACTION_ITEMS = 100;
/** A batch rebuilt after a racing write changed one of its blobs, at most this many times. */
const MAX_REBUILDS = 10;

export interface BlobReferences {
  readonly sha256: Sha256;
  readonly size: number;
  /** How many files of the version point at the blob. */
  readonly count: number;
}

/**
 * The distinct blobs of `files` with their file counts, sorted by digest and cut into batches: the
 * same split on every attempt, whatever order the files come in.
 */
export function referenceBatches(
  files: readonly { readonly sha256: Sha256; readonly size: number }[],
): BlobReferences[][] {
  const refs = new Map<Sha256, BlobReferences>();
  for (const f of files) {
    refs.set(f.sha256, { sha256: f.sha256, size: f.size, count: (refs.get(f.sha256)?.count ?? 0) + 1 });
  }
  const sorted = [...refs.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
  const batches: BlobReferences[][] = [];
  for (let at = 0; at < sorted.length; at += REFERENCE_BATCH)
    batches.push(sorted.slice(at, at + REFERENCE_BATCH));
  return batches;
}

/** The batch numbers a mark attribute (a number set) holds. */
export function marksOf(item: Item | null, attribute: string): Set<number> {
  const value = item?.[attribute];
  return value instanceof Set ? new Set([...value].map(Number)) : new Set();
}

/**
 * The blob update that drops `dropped` references of `namespace` from the blob as read: a blob
 * reaching 0 is unreferenced from `now`, or later if a session still holds it. Conditioned on what
 * was read (`blobChange`), so a racing commit makes the transaction fail and the caller re-reads.
 */
export function referenceDrop(
  table: string,
  read: BlobFacts,
  dropped: number,
  namespace: string,
  now: Date,
): TransactWriteItem {
  const refcount = Math.max(0, read.refcount - dropped);
  const since = refcount === 0 ? later(read.unreferencedSince, now.toISOString()) : read.unreferencedSince;
  return blobChange(
    table,
    read,
    { ...read, refcount, unreferencedSince: since },
    { add: { [namespaceRefAttribute(namespace)]: -dropped } },
  );
}

/**
 * Drops one batch of references in one transaction with `ownerUpdate` (the mark that says this batch
 * is dropped), re-reading the blobs when a racing write changed one. Answers false when the owner's
 * own condition failed (someone else dropped the batch, or the owner moved on): nothing was written.
 */
export async function dropBatch(
  table: DynamoTable,
  batch: readonly BlobReferences[],
  namespace: string,
  now: Date,
  ownerUpdate: TransactWriteItem,
): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
    const found = await table.getMany(batch.map((b) => keys.blob(b.sha256)));
    const read = new Map(found.map((i) => [i.sha256 as Sha256, blobFactsOf(i)!]));
    const drops = batch.flatMap((b) => {
      const blob = read.get(b.sha256);
      // A blob row that is gone holds no reference to drop (GC forgets only unreferenced blobs).
      return blob ? [referenceDrop(table.name, blob, b.count, namespace, now)] : [];
    });
    const failed = await table.transact([ownerUpdate, ...drops]);
    if (!failed) return true;
    if (failed[0]?.code === 'ConditionalCheckFailed') return false;
  }
  throw new Error(
    `the blobs of one reference batch kept changing; ${batch.length} references left as they were`,
  );
}

/**
 * Drops the references an uncommitted session took (`refBatches` marks): after an abort, an expiry,
 * or a commit that lost. A committed session's references belong to its version and are kept.
 * A crash part-way leaves the rest marked, and references only ever keep blobs longer.
 */
export async function releaseSessionReferences(
  table: DynamoTable,
  uploadId: string,
  now: Date,
): Promise<void> {
  for (let pass = 0; pass < MAX_REBUILDS; pass++) {
    const item = await table.get(keys.session(uploadId));
    if (!item || item.state === 'committed') return;
    const marks = marksOf(item, 'refBatches');
    if (marks.size === 0) return;
    const batches = referenceBatches((await readSession(table, uploadId))?.files ?? []);
    for (const i of marks) {
      const unmark: TransactWriteItem = {
        Update: {
          TableName: table.name,
          Key: toAttributes(keys.session(uploadId)),
          ...updateExpression({
            update: 'DELETE #refBatches :mark',
            condition: 'contains(#refBatches, :i) AND #state <> :committed',
            values: { ':mark': new Set([i]), ':i': i, ':committed': 'committed' },
          }),
        },
      };
      await dropBatch(table, batches[i] ?? [], item.namespace as string, now, unmark);
    }
  }
}

/**
 * GC's delete of a tombstoned version whose references do not fit one transaction: the version is
 * marked `purging` first (a restore is refused from then on, so it can never come back with some of
 * its references dropped), then each batch is dropped with a `released` mark on the version, and
 * the version item goes (with its audit event) once every batch is marked. A run that stops part-way
 * leaves the version tombstoned and listed: the next run resumes where it stopped. `version` is the
 * item read whole (`readVersionItem`); its file items, if any, go in the final transaction.
 *
 * A `deleted` version (deleted by request: its number stays taken) goes through the same steps in
 * its own state, and its final step purges it as the one-transaction delete does: the item stays,
 * with an empty file list, off the tombstoned list.
 */
export async function deleteVersionInStages(
  table: DynamoTable,
  version: Item,
  cutoff: Date,
  now: Date,
  auditPut: TransactWriteItem,
): Promise<boolean> {
  const key = { pk: version.pk as string, sk: version.sk as string };
  const namespace = version.namespace as string;
  const batches = referenceBatches(version.files as { sha256: Sha256; size: number }[]);
  const state = version.state === 'deleted' ? 'deleted' : 'deleting';
  const values = { ':state': state, ':cutoff': cutoff.toISOString(), ':true': true };
  if (version.purging !== true) {
    const marked = await table.update({
      TableName: table.name,
      Key: toAttributes(key),
      ...updateExpression({
        update: 'SET #purging = :true',
        condition: '#state = :state AND #tombstonedAt <= :cutoff',
        values,
      }),
    });
    if (!marked) return false;
  }
  const released = marksOf(version, 'released');
  for (const [i, batch] of batches.entries()) {
    if (released.has(i)) continue;
    const mark: TransactWriteItem = {
      Update: {
        TableName: table.name,
        Key: toAttributes(key),
        ...updateExpression({
          update: 'ADD #released :mark',
          condition: '#state = :state AND #purging = :true AND NOT contains(#released, :i)',
          values: { ...values, ':mark': new Set([i]), ':i': i },
        }),
      },
    };
    if (await dropBatch(table, batch, namespace, now, mark)) continue;
    // Another GC step dropped it (a run that overlapped this one): fine, unless the version is gone.
    if (!marksOf(await table.get(key), 'released').has(i)) return false;
  }
  const done = { condition: '#state = :state AND size(#released) = :batches' };
  const last: TransactWriteItem =
    state === 'deleted'
      ? {
          Update: {
            TableName: table.name,
            Key: toAttributes(key),
            ...updateExpression({
              update:
                'SET #files = :none REMOVE #tombstonedAt, #gsi2pk, #gsi2sk, #fileItems, #purging, #released',
              ...done,
              values: { ':state': state, ':batches': batches.length, ':none': [] },
            }),
          },
        }
      : {
          Delete: {
            TableName: table.name,
            Key: toAttributes(key),
            ...expression({ ...done, values: { ':state': state, ':batches': batches.length } }),
          },
        };
  const failed = await table.transact([last, auditPut, ...versionFileDeletes(table.name, version)]);
  return failed === null;
}
