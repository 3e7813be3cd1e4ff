import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError, UploadExpiredError, VersionExistsError } from '../../core/errors.ts';
import type { AuditEvent, CommitInput, Sha256 } from '../../ports.ts';
import {
  blobReference,
  commitFailure,
  fileItemPuts,
  listedPut,
  sessionCommitted,
  versionPut,
} from './dynamoDbCommit.ts';
import { conditionExpression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { auditItem, type Item, keys, namespaceRefAttribute } from './dynamoDbItems.ts';
import { marksOf, referenceBatches, releaseSessionReferences } from './dynamoDbReferences.ts';
import { sessionHeaderOf } from './dynamoDbSessions.ts';
import type { DynamoTable } from './dynamoDbTable.ts';
import { versionItems } from './dynamoDbVersionFiles.ts';

/**
 * The commit of a version whose blob references do not fit one transaction (up to 1,000 files):
 *
 * 1. References first, `REFERENCE_BATCH` blobs a transaction, each with a mark on the session
 *    (`refBatches`, conditioned on the session still open and unexpired, and on the mark being
 *    absent): every blob gets its reference, its "not being deleted" / "still available" check, and
 *    a retried or concurrent attempt skips the batches already taken. GC deletes only blobs whose
 *    refcount is 0, so from here on nothing this version will point at can be deleted.
 * 2. Then visibility in one small transaction, as the single-transaction commit does: session →
 *    committed (conditioned also on every batch being marked), version put, audit, work-list entry,
 *    and the version's file items when it has more than 64 files (at most 16 of them, so the
 *    transaction stays far within 100 items: dynamoDbVersionFiles.ts).
 *
 * Killed between the two, nothing is visible and the session is still open: a retried commit
 * resumes, and an abort or GC's expiry of the session drops the references it took
 * (`releaseSessionReferences`), as a commit that lost its version to another session does at once.
 */
export async function commitInStages(
  table: DynamoTable,
  input: CommitInput,
  audit: AuditEvent,
  options: { readonly listPackage: boolean },
): Promise<void> {
  const v = input.version;
  const batches = referenceBatches(v.files);
  const available = new Set(input.availableBlobs);
  const namespaceRef = namespaceRefAttribute(v.namespace);
  const sessionKey = keys.session(input.uploadId);
  const taken = marksOf(await table.get(sessionKey), 'refBatches');
  for (const [i, batch] of batches.entries()) {
    if (taken.has(i)) continue;
    const failed = await table.transact([
      markTaken(table.name, input, i),
      ...batch.map((b) =>
        blobReference(table.name, b.sha256, b, v.createdAt, available.has(b.sha256), namespaceRef),
      ),
    ]);
    if (!failed) continue;
    if (failed[0]?.code === 'ConditionalCheckFailed') {
      const session = await table.get(sessionKey);
      if (marksOf(session, 'refBatches').has(i)) continue; // another attempt of this commit took it
      throw sessionFailure(input, session);
    }
    const refused = batch
      .filter((_, at) => failed[at + 1]?.code === 'ConditionalCheckFailed')
      .map((b) => b.sha256);
    throw blobFailure(input, refused);
  }
  const checkedOnly = input.availableBlobs.filter((sha) => !v.files.some((f) => f.sha256 === sha));
  const [version, ...fileItems] = versionItems(v);
  const items: TransactWriteItem[] = [
    sessionCommitted(table.name, input, {
      condition: 'size(#refBatches) = :batches',
      values: { ':batches': batches.length },
    }),
    versionPut(table.name, version!),
    { Put: { TableName: table.name, Item: toAttributes(auditItem(audit)) } },
    ...checkedOnly.map(
      (sha): TransactWriteItem => ({
        ConditionCheck: {
          TableName: table.name,
          Key: toAttributes(keys.blob(sha)),
          ...conditionExpression({ condition: '#state = :available', values: { ':available': 'available' } }),
        },
      }),
    ),
    ...(options.listPackage ? [listedPut(table.name, v.namespace, v.package)] : []),
    ...fileItemPuts(table.name, fileItems),
  ];
  const reasons = await table.transact(items);
  if (!reasons) return;
  const old = reasons[0]?.item;
  const error =
    reasons[0]?.code === 'ConditionalCheckFailed' && reasons[1]?.code !== 'ConditionalCheckFailed' && old
      ? sessionFailure(input, old)
      : commitFailure(input, reasons, checkedOnly);
  // Lost for good: the references this session took are nobody's. (A changed session is retried.)
  if (error instanceof VersionExistsError || error instanceof UploadExpiredError)
    await releaseSessionReferences(table, input.uploadId, input.now);
  throw error;
}

/** Batch `i` taken: added to the session's marks while it is open, unexpired and without the mark. */
function markTaken(table: string, input: CommitInput, i: number): TransactWriteItem {
  return {
    Update: {
      TableName: table,
      Key: toAttributes(keys.session(input.uploadId)),
      ...updateExpression({
        update: 'ADD #refBatches :mark',
        condition:
          'attribute_exists(#pk) AND #state = :open AND #expiresAt > :now AND NOT contains(#refBatches, :i)',
        values: { ':mark': new Set([i]), ':i': i, ':open': 'open', ':now': input.now.toISOString() },
      }),
    },
  };
}

/** Why the session refused a step, as the single-transaction commit would say it. */
function sessionFailure(input: CommitInput, item: Item | null): Error {
  if (!item) return new NotFoundError(`upload ${input.uploadId} not found`);
  const session = sessionHeaderOf(item);
  if (session.expiresAt <= input.now.toISOString() && session.state === 'open')
    return new UploadExpiredError(`upload ${input.uploadId} expired at ${session.expiresAt}`);
  // Committed by another attempt, aborted, scanned since it was read, or a batch dropped meanwhile.
  return new ConflictError(`upload ${input.uploadId} changed during the commit`, {
    details: { reason: 'sessionChanged' },
  });
}

function blobFailure(input: CommitInput, refused: readonly Sha256[]): Error {
  const gone = refused.filter((sha) => input.availableBlobs.includes(sha));
  if (gone.length > 0)
    return new ConflictError('content this version relies on is no longer stored; upload it again', {
      details: { reason: 'blobGone', blobs: gone },
    });
  return new ConflictError('content is being deleted by GC; upload it again', {
    details: { reason: 'blobDeleting', blobs: refused },
  });
}
