import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError, UploadExpiredError, VersionExistsError } from '../../core/errors.ts';
import type { AuditEvent, CommitInput, Sha256 } from '../../ports.ts';
import { conditionExpression, expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { auditItem, keys, namespaceRefAttribute, workLists } from './dynamoDbItems.ts';
import { sessionHeaderOf } from './dynamoDbSessions.ts';
import type { CancellationReason } from './dynamoDbTable.ts';
import { versionItems } from './dynamoDbVersionFiles.ts';

/** Positions of the commit transaction's items; blob updates follow, one per distinct blob. */
const SESSION = 0;
const VERSION = 1;
const FIRST_BLOB = 3;

/**
 * The commit as one transaction of 3 + (distinct blobs) (+ 1) (+ file items) items, when that is
 * within DynamoDB's 100 (a bigger version commits in stages, dynamoDbStagedCommit.ts):
 * session → committed, version put, the audit event, a reference on every blob (created `pending`
 * when absent), the package's work-list entry while `listPackage`, and last the file items of a
 * version of more than 64 files (dynamoDbVersionFiles.ts: written with their version or not at
 * all). No item is shared by every commit to a package (the version's gsi1 position is a
 * time-ordered key), so commits to one package do not contend. A blob the commit relies on being stored (`availableBlobs`) carries "still
 * available" in its own reference's condition: a transaction may not touch one item twice.
 */
export function commitTransaction(
  table: string,
  input: CommitInput,
  audit: AuditEvent,
  options: { readonly listPackage: boolean },
) {
  const v = input.version;
  const refs = new Map<Sha256, { size: number; count: number }>();
  for (const f of v.files) {
    refs.set(f.sha256, { size: f.size, count: (refs.get(f.sha256)?.count ?? 0) + 1 });
  }
  const available = new Set(input.availableBlobs);
  const blobs = [...refs.keys()];
  // Blobs relied on that no file points at (core never sends them, but the port allows it).
  const checkedOnly = [...available].filter((sha) => !refs.has(sha));
  const [version, ...fileItems] = versionItems(v);
  const items: TransactWriteItem[] = [
    sessionCommitted(table, input),
    versionPut(table, version!),
    { Put: { TableName: table, Item: toAttributes(auditItem(audit)) } },
    ...blobs.map((sha) =>
      blobReference(
        table,
        sha,
        refs.get(sha)!,
        v.createdAt,
        available.has(sha),
        namespaceRefAttribute(v.namespace),
      ),
    ),
    ...checkedOnly.map(
      (sha): TransactWriteItem => ({
        ConditionCheck: {
          TableName: table,
          Key: toAttributes(keys.blob(sha)),
          ...conditionExpression({ condition: '#state = :available', values: { ':available': 'available' } }),
        },
      }),
    ),
    ...(options.listPackage ? [listedPut(table, v.namespace, v.package)] : []),
    ...fileItemPuts(table, fileItems),
  ];
  return { items, blobs: [...blobs, ...checkedOnly] };
}

/** The version item's Put: refused when the version exists (another session committed it first). */
export function versionPut(table: string, version: Record<string, unknown>): TransactWriteItem {
  return {
    Put: {
      TableName: table,
      Item: toAttributes(version),
      ...expression({ condition: 'attribute_not_exists(#pk)' }),
    },
  };
}

/**
 * The Puts of a version's file items. Unconditioned: their keys hold the commit's upload id, so no
 * other commit writes them, and the version Put's condition in the same transaction decides them.
 */
export function fileItemPuts(
  table: string,
  fileItems: readonly Record<string, unknown>[],
): TransactWriteItem[] {
  return fileItems.map((item) => ({ Put: { TableName: table, Item: toAttributes(item) } }));
}

/**
 * Session → committed, conditioned on still open, unexpired and at the revision the commit read;
 * `extra` adds a condition (a staged commit's "every reference batch taken").
 */
export function sessionCommitted(
  table: string,
  input: CommitInput,
  extra?: { readonly condition: string; readonly values: Record<string, unknown> },
): TransactWriteItem {
  return {
    Update: {
      TableName: table,
      Key: toAttributes(keys.session(input.uploadId)),
      ...updateExpression({
        update: 'SET #state = :committed, #revision = #revision + :one REMOVE #gsi2pk, #gsi2sk',
        condition:
          'attribute_exists(#pk) AND #state = :open AND #revision = :rev AND #expiresAt > :now' +
          (extra ? ` AND ${extra.condition}` : ''),
        values: {
          ':committed': 'committed',
          ':one': 1,
          ':open': 'open',
          ':rev': input.sessionRevision,
          ':now': input.now.toISOString(),
          ...extra?.values,
        },
      }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * The package's entry on the `PACKAGES` work list (GC's retention walks it), sorted by (ns, pkg): an
 * idempotent Put, carried by commits until this process has seen one of the package's succeed.
 */
export function listedPut(table: string, namespace: string, pkg: string): TransactWriteItem {
  // '#' sorts before every character a name may hold, so the string order is the (ns, pkg) order.
  const item = {
    ...keys.listed(namespace, pkg),
    kind: 'package',
    namespace,
    package: pkg,
    gsi2pk: workLists.packages,
    gsi2sk: `${namespace}#${pkg}`,
  };
  return { Put: { TableName: table, Item: toAttributes(item) } };
}

export function blobReference(
  table: string,
  sha256: Sha256,
  ref: { size: number; count: number },
  at: string,
  mustBeAvailable: boolean,
  namespaceRef: string,
): TransactWriteItem {
  return {
    Update: {
      TableName: table,
      Key: toAttributes(keys.blob(sha256)),
      ...updateExpression({
        update:
          'SET #kind = :blob, #sha256 = :sha, #size = if_not_exists(#size, :size), ' +
          '#state = if_not_exists(#state, :pending), #createdAt = if_not_exists(#createdAt, :at) ' +
          // Referenced now: off GC's deletable list (holds end here too, as in the embedded index).
          `ADD #refcount :count, #${namespaceRef} :count REMOVE #unreferencedSince, #gsi2pk, #gsi2sk`,
        condition: mustBeAvailable
          ? '#state = :available'
          : 'attribute_not_exists(#pk) OR #state <> :deleting',
        values: {
          ':blob': 'blob',
          ':sha': sha256,
          ':size': ref.size,
          ':pending': 'pending',
          ':at': at,
          ':count': ref.count,
          ':deleting': 'deleting',
          ':available': 'available',
        },
      }),
    },
  };
}

/** What a cancelled commit means for the caller: the error of the item whose condition failed. */
export function commitFailure(
  input: CommitInput,
  reasons: readonly CancellationReason[],
  blobs: readonly Sha256[],
): Error {
  const failed = (i: number) => reasons[i]?.code === 'ConditionalCheckFailed';
  if (failed(SESSION)) {
    const old = reasons[SESSION]?.item;
    if (!old) return new NotFoundError(`upload ${input.uploadId} not found`);
    const session = sessionHeaderOf(old);
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
  const failedBlobs = blobs.filter((_, i) => failed(FIRST_BLOB + i));
  const gone = failedBlobs.filter((sha) => input.availableBlobs.includes(sha));
  if (gone.length > 0) {
    return new ConflictError('content this version relies on is no longer stored; upload it again', {
      details: { reason: 'blobGone', blobs: gone },
    });
  }
  const deleting = failedBlobs;
  if (deleting.length > 0) {
    return new ConflictError('content is being deleted by GC; upload it again', {
      details: { reason: 'blobDeleting', blobs: deleting },
    });
  }
  return new Error(`commit of ${input.uploadId} cancelled: ${reasons.map((r) => r.code).join(', ')}`);
}
