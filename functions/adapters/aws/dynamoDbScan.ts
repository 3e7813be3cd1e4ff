import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { ScanReport, SessionFile } from '../../core/model.ts';
import type { ScanOutcome, StoredSession, VersionRecord } from '../../ports.ts';
import { type BlobFacts, blobChange, later } from './dynamoDbBlobs.ts';
import { toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { type Item, keys } from './dynamoDbItems.ts';
import { sessionFileAt } from './dynamoDbSessions.ts';
import { versionFileAt } from './dynamoDbVersionFiles.ts';

/** What recordScan read before writing; every write is conditioned on it still holding. */
export interface ScanSnapshot {
  readonly session: Omit<StoredSession, 'files'>;
  /** The session item as read: where its files are kept, and whether it counts those awaiting a scan. */
  readonly raw: Item;
  readonly file: SessionFile;
  readonly blob: BlobFacts | null;
  /**
   * The committed version's item read whole (`readVersionItem`: its files included), whose file takes
   * the rejection or loses its `unverified` mark, in the version item or in its file item.
   */
  readonly version: Item | null;
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
  const { session, file } = read;
  const rejected = outcome.verdict !== 'verified';
  const items = sessionFileChange(table, read, outcome.fileIndex, {
    set: rejected ? ['#verdict = :verdict', '#rejection = :report'] : ['#verdict = :verdict'],
    remove: ['#scanError'],
    values: { ':verdict': rejected ? 'rejected' : 'verified', ':report': outcome.report },
    verdict: true,
  });
  if (outcome.verdict !== 'rejected') items.push(blobUpdate(table, outcome, read.blob, session.expiresAt));
  const found = versionFileOf(read.version, file.name);
  if (found && (rejected || found.file.unverified || found.file.scanError)) {
    const { key, position } = found;
    items.push({
      Update: {
        TableName: table,
        Key: toAttributes(key),
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
 * One session file's attributes changed, and the session's revision moved past the one read (the
 * condition every session write carries), as transaction items: one Update when the file is kept in
 * the session item, else its file item's and the session item's. A verdict also lowers the count of
 * files awaiting one, where the session keeps that count.
 */
function sessionFileChange(
  table: string,
  read: Pick<ScanSnapshot, 'session' | 'raw'>,
  index: number,
  change: {
    readonly set: readonly string[];
    readonly remove: readonly string[];
    readonly values: Record<string, unknown>;
    readonly verdict?: boolean;
  },
): TransactWriteItem[] {
  const at = sessionFileAt(read.raw, index);
  const path = (attribute: string) => attribute.replace(/^#/, `#files[${at.position}].#`);
  const fileSet = change.set.map(path);
  const fileRemove = change.remove.map(path);
  const revision = ['#revision = #revision + :one'];
  if (change.verdict && read.raw.awaitingScan !== undefined)
    revision.push('#awaitingScan = #awaitingScan - :one');
  const values = { ...change.values, ':one': 1, ':rev': read.session.revision };
  const update = (set: readonly string[], remove: readonly string[]) =>
    `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`;
  const sessionKey = keys.session(read.session.uploadId);
  if (at.key.sk === sessionKey.sk) {
    const expression = updateExpression({
      update: update([...fileSet, ...revision], fileRemove),
      condition: '#revision = :rev',
      values,
    });
    return [{ Update: { TableName: table, Key: toAttributes(sessionKey), ...expression } }];
  }
  return [
    {
      Update: {
        TableName: table,
        Key: toAttributes(at.key),
        ...updateExpression({
          update: update(fileSet, fileRemove),
          condition: 'attribute_exists(#pk)',
          values: change.values,
        }),
      },
    },
    {
      Update: {
        TableName: table,
        Key: toAttributes(sessionKey),
        ...updateExpression({ update: update(revision, []), condition: '#revision = :rev', values }),
      },
    },
  ];
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
  const { session, file } = read;
  const items = sessionFileChange(table, read, fileIndex, {
    set: ['#scanError = :report'],
    remove: [],
    values: { ':report': report },
  });
  const found = versionFileOf(read.version, file.name);
  if (found && !found.file.rejection) {
    const { key, position } = found;
    items.push({
      Update: {
        TableName: table,
        Key: toAttributes(key),
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

/**
 * The version's file of this name: the file as read, and the item and list position its marks are
 * written at (the version item, or for a version of more than 64 files its file item). Either item
 * carries the version's `uploadId`, which every write to it is conditioned on.
 */
function versionFileOf(
  version: Item | null,
  name: string,
): { file: VersionRecord['files'][number]; key: Item; position: number } | undefined {
  const files = (version?.files ?? []) as VersionRecord['files'];
  const index = files.findIndex((f) => f.name === name);
  if (!version || index < 0) return undefined;
  return { file: files[index]!, ...versionFileAt(version, index) };
}
