import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { SessionFile } from '../../core/model.ts';
import type { BlobRecord, ScanOutcome, StoredSession, VersionRecord } from '../../ports.ts';
import { toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { keys, workLists } from './dynamoDbItems.ts';

/** What recordScan read before writing; every write is conditioned on it still holding. */
export interface ScanSnapshot {
  readonly session: StoredSession;
  readonly blob: BlobRecord | null;
  /** The committed version, read only when a rejection must be copied onto its file. */
  readonly version: VersionRecord | null;
}

/**
 * The scan outcome as one transaction: the session file's verdict (revision-checked, so a commit
 * racing it fails and re-reads, or this fails and is rebuilt), the blob's state and report, and for a
 * committed session the version file's rejection. Same meaning as the embedded index.
 */
export function scanTransaction(
  table: string,
  outcome: ScanOutcome,
  read: ScanSnapshot,
): TransactWriteItem[] {
  const { session } = read;
  const file = session.files[outcome.fileIndex]!;
  const rejected = outcome.verdict !== 'verified';
  const updated: SessionFile = rejected
    ? { ...file, verdict: 'rejected', rejection: outcome.report }
    : { ...file, verdict: 'verified' };
  const items: TransactWriteItem[] = [
    {
      Update: {
        TableName: table,
        Key: toAttributes(keys.session(session.uploadId)),
        ...updateExpression({
          update: 'SET #files = :files, #revision = #revision + :one',
          condition: '#revision = :rev',
          values: {
            ':files': session.files.map((f, i) => (i === outcome.fileIndex ? updated : f)),
            ':one': 1,
            ':rev': session.revision,
          },
        }),
      },
    },
  ];
  if (outcome.verdict !== 'rejected') items.push(blobUpdate(table, outcome, read.blob));
  const position = read.version?.files.findIndex((f) => f.name === file.name) ?? -1;
  if (rejected && read.version && position >= 0) {
    items.push({
      Update: {
        TableName: table,
        Key: toAttributes(keys.version(session.namespace, session.package, session.version)),
        ...updateExpression({
          update: `SET #files[${position}].#rejection = :report`,
          condition: '#uploadId = :uploadId',
          values: { ':report': outcome.report, ':uploadId': session.uploadId },
        }),
      },
    });
  }
  return items;
}

/**
 * Verified bytes make a pending (or new) blob available; a blob in any other state keeps it and only
 * takes the report. Infected content quarantines the blob whatever its state.
 */
function blobUpdate(table: string, outcome: ScanOutcome, blob: BlobRecord | null): TransactWriteItem {
  const Key = toAttributes(keys.blob(outcome.sha256));
  const scan = outcome.report;
  if (outcome.verdict === 'verified' && blob && blob.state !== 'pending') {
    return {
      Update: {
        TableName: table,
        Key,
        ...updateExpression({
          update: 'SET #scan = :scan',
          condition: '#state = :seen',
          values: { ':scan': scan, ':seen': blob.state },
        }),
      },
    };
  }
  const state = outcome.verdict === 'verified' ? 'available' : 'quarantined';
  return {
    Update: {
      TableName: table,
      Key,
      ...updateExpression({
        update:
          'SET #kind = :blob, #sha256 = :sha, #size = if_not_exists(#size, :size), #state = :state, ' +
          '#scan = :scan, #gsi2pk = :list, #gsi2sk = :sha, #createdAt = if_not_exists(#createdAt, :at) ' +
          'ADD #refcount :zero',
        condition: state === 'available' ? 'attribute_not_exists(#pk) OR #state = :pending' : undefined,
        values: {
          ':blob': 'blob',
          ':sha': outcome.sha256,
          ':size': outcome.size,
          ':state': state,
          ':scan': scan,
          ':list': workLists.blobs(state),
          ':at': outcome.at.toISOString(),
          ':zero': 0,
          ':pending': 'pending',
        },
      }),
    },
  };
}
