import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { ScanReport, SessionFile } from '../../core/model.ts';
import type { ScanOutcome, StoredSession, VersionRecord } from '../../ports.ts';
import { type BlobFacts, blobChange, later } from './dynamoDbBlobs.ts';
import { toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { keys } from './dynamoDbItems.ts';

/** What recordScan read before writing; every write is conditioned on it still holding. */
export interface ScanSnapshot {
  readonly session: StoredSession;
  readonly blob: BlobFacts | null;
  /** The committed version, whose file takes the rejection or loses its `unverified` mark. */
  readonly version: VersionRecord | null;
}

/**
 * The scan outcome as one transaction: the session file's verdict (revision-checked, so a commit
 * racing it fails and re-reads, or this fails and is rebuilt), the blob's state and report, and for a
 * committed session the version file's rejection, or the end of its `unverified` mark. Same meaning
 * as the embedded index.
 */
export function scanTransaction(
  table: string,
  outcome: ScanOutcome,
  read: ScanSnapshot,
): TransactWriteItem[] {
  const { session } = read;
  const file = session.files[outcome.fileIndex]!;
  const rejected = outcome.verdict !== 'verified';
  const { scanError: _replaced, ...scanned } = file;
  const updated: SessionFile = rejected
    ? { ...scanned, verdict: 'rejected', rejection: outcome.report }
    : { ...scanned, verdict: 'verified' };
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
  if (outcome.verdict !== 'rejected') items.push(blobUpdate(table, outcome, read.blob, session.expiresAt));
  const position = read.version?.files.findIndex((f) => f.name === file.name) ?? -1;
  const versionFile = position >= 0 ? read.version?.files[position] : undefined;
  if (versionFile && (rejected || versionFile.unverified || versionFile.scanError)) {
    items.push({
      Update: {
        TableName: table,
        Key: toAttributes(keys.version(session.namespace, session.package, session.version)),
        ...updateExpression({
          update: rejected
            ? `SET #files[${position}].#rejection = :report REMOVE #files[${position}].#scanError`
            : `REMOVE #files[${position}].#unverified, #files[${position}].#scanError`,
          condition: '#uploadId = :uploadId',
          values: { ':report': outcome.report, ':uploadId': session.uploadId },
        }),
      },
    });
  }
  return items;
}

/**
 * Verified bytes make a pending (or new) blob available, and hold it until the later of now and the
 * session's expiry (a blob verified before any commit references it must outlive the session); a
 * blob in any other state keeps it and only takes the report. Infected content quarantines the blob
 * whatever its state; a new quarantined blob is unreferenced from now on. Same as the embedded index.
 */
function blobUpdate(
  table: string,
  outcome: ScanOutcome,
  read: BlobFacts | null,
  sessionExpiresAt: string,
): TransactWriteItem {
  const at = outcome.at.toISOString();
  const base: BlobFacts = read ?? {
    sha256: outcome.sha256,
    size: outcome.size,
    state: 'pending',
    refcount: 0,
  };
  const next: BlobFacts =
    outcome.verdict === 'verified'
      ? {
          ...base,
          state: base.state === 'pending' ? 'available' : base.state,
          unreferencedSince: later(base.unreferencedSince, later(sessionExpiresAt, at)),
        }
      : { ...base, state: 'quarantined', unreferencedSince: read ? read.unreferencedSince : at };
  return blobChange(table, read, next, { scan: outcome.report, at });
}

/**
 * A failed scan attempt as one transaction: the session file's `scanError` (revision-checked, like a
 * verdict) and, for a committed session, the version file's, conditioned on the version being this
 * upload's. Same meaning as the embedded index.
 */
export function scanErrorTransaction(
  table: string,
  fileIndex: number,
  report: ScanReport,
  read: Omit<ScanSnapshot, 'blob'>,
): TransactWriteItem[] {
  const { session } = read;
  const file = session.files[fileIndex]!;
  const items: TransactWriteItem[] = [
    {
      Update: {
        TableName: table,
        Key: toAttributes(keys.session(session.uploadId)),
        ...updateExpression({
          update: 'SET #files = :files, #revision = #revision + :one',
          condition: '#revision = :rev',
          values: {
            ':files': session.files.map((f, i) => (i === fileIndex ? { ...f, scanError: report } : f)),
            ':one': 1,
            ':rev': session.revision,
          },
        }),
      },
    },
  ];
  const position = read.version?.files.findIndex((f) => f.name === file.name) ?? -1;
  const versionFile = position >= 0 ? read.version?.files[position] : undefined;
  if (versionFile && !versionFile.rejection) {
    items.push({
      Update: {
        TableName: table,
        Key: toAttributes(keys.version(session.namespace, session.package, session.version)),
        ...updateExpression({
          update: `SET #files[${position}].#scanError = :report`,
          condition: '#uploadId = :uploadId',
          values: { ':report': report, ':uploadId': session.uploadId },
        }),
      },
    });
  }
  return items;
}
