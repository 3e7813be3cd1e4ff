import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError, UploadExpiredError, VersionExistsError } from '../../core/errors.ts';
import type { AuditEvent, CommitInput, Sha256 } from '../../ports.ts';
import { expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { auditItem, keys, sessionOf, versionItem, workLists } from './dynamoDbItems.ts';
import type { CancellationReason } from './dynamoDbTable.ts';

/** Positions of the commit transaction's items; blob updates follow, one per distinct blob. */
const SESSION = 0;
const VERSION = 1;
const COUNTER = 2;
const FIRST_BLOB = 4;

/**
 * The commit as one transaction of 4 + (distinct blobs ≤ 50) items, within DynamoDB's 100:
 * session → committed, version put, the package's commit counter, the audit event, and a reference
 * on every blob (created `pending` when absent). `previousSeq` is the counter as read before:
 * its condition makes two commits to one package take distinct, increasing positions.
 */
export function commitTransaction(
  table: string,
  input: CommitInput,
  audit: AuditEvent,
  previousSeq: number | undefined,
) {
  const v = input.version;
  const refs = new Map<Sha256, { size: number; count: number }>();
  for (const f of v.files) {
    refs.set(f.sha256, { size: f.size, count: (refs.get(f.sha256)?.count ?? 0) + 1 });
  }
  const blobs = [...refs.keys()];
  const items: TransactWriteItem[] = [
    {
      Update: {
        TableName: table,
        Key: toAttributes(keys.session(input.uploadId)),
        ...updateExpression({
          update: 'SET #state = :committed, #revision = #revision + :one REMOVE #gsi2pk, #gsi2sk',
          condition: 'attribute_exists(#pk) AND #state = :open AND #revision = :rev AND #expiresAt > :now',
          values: {
            ':committed': 'committed',
            ':one': 1,
            ':open': 'open',
            ':rev': input.sessionRevision,
            ':now': input.now.toISOString(),
          },
        }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
    {
      Put: {
        TableName: table,
        Item: toAttributes(versionItem(v, (previousSeq ?? 0) + 1)),
        ...expression({ condition: 'attribute_not_exists(#pk)' }),
      },
    },
    {
      Update: {
        TableName: table,
        Key: toAttributes(keys.package(v.namespace, v.package)),
        ...updateExpression({
          update: 'SET #seq = :next',
          condition: previousSeq === undefined ? 'attribute_not_exists(#pk)' : '#seq = :previous',
          values: { ':next': (previousSeq ?? 0) + 1, ':previous': previousSeq },
        }),
      },
    },
    { Put: { TableName: table, Item: toAttributes(auditItem(audit)) } },
    ...blobs.map((sha) => blobReference(table, sha, refs.get(sha)!, v.createdAt)),
  ];
  return { items, blobs };
}

function blobReference(
  table: string,
  sha256: Sha256,
  ref: { size: number; count: number },
  at: string,
): TransactWriteItem {
  return {
    Update: {
      TableName: table,
      Key: toAttributes(keys.blob(sha256)),
      ...updateExpression({
        update:
          'SET #kind = :blob, #sha256 = :sha, #size = if_not_exists(#size, :size), ' +
          '#state = if_not_exists(#state, :pending), #gsi2pk = if_not_exists(#gsi2pk, :list), #gsi2sk = :sha, ' +
          '#createdAt = if_not_exists(#createdAt, :at) ADD #refcount :count REMOVE #unreferencedSince',
        condition: 'attribute_not_exists(#pk) OR #state <> :deleting',
        values: {
          ':blob': 'blob',
          ':sha': sha256,
          ':size': ref.size,
          ':pending': 'pending',
          ':list': workLists.blobs('pending'),
          ':at': at,
          ':count': ref.count,
          ':deleting': 'deleting',
        },
      }),
    },
  };
}

/** What a cancelled commit means: an error for the caller, or `retry` when only the counter moved. */
export function commitFailure(
  input: CommitInput,
  reasons: readonly CancellationReason[],
  blobs: readonly Sha256[],
): Error | 'retry' {
  const failed = (i: number) => reasons[i]?.code === 'ConditionalCheckFailed';
  if (failed(SESSION)) {
    const old = reasons[SESSION]?.item;
    if (!old) return new NotFoundError(`upload ${input.uploadId} not found`);
    const session = sessionOf(old);
    // Same order as the embedded index: a changed session first (the caller re-reads and decides).
    if (session.state !== 'open' || session.revision !== input.sessionRevision) {
      return new ConflictError(`upload ${input.uploadId} changed during the commit`, {
        details: { reason: 'sessionChanged' },
      });
    }
    if (!failed(VERSION)) {
      return new UploadExpiredError(`upload ${input.uploadId} expired at ${session.expiresAt}`);
    }
  }
  const v = input.version;
  if (failed(VERSION)) {
    return new VersionExistsError(`version ${v.namespace}/${v.package}@${v.version} already exists`);
  }
  const deleting = blobs.filter((_, i) => failed(FIRST_BLOB + i));
  if (deleting.length > 0) {
    return new ConflictError('content is being deleted by GC; upload it again', {
      details: { reason: 'blobDeleting', blobs: deleting },
    });
  }
  if (failed(COUNTER)) return 'retry';
  return new Error(`commit of ${input.uploadId} cancelled: ${reasons.map((r) => r.code).join(', ')}`);
}
