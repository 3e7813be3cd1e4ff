import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { IndexNames } from '../../config/resources.ts';
import { isString, parsePosition } from '../../core/cursor.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { ScanReport, VulnerabilityReport } from '../../core/model.ts';
import { sameScanError } from '../../core/scanErrors.ts';
import type {
  AuditEvent,
  BlobRecord,
  CommitInput,
  Index,
  RecordedScan,
  ScanOutcome,
  SessionFileView,
  Sha256,
  StoredSession,
  UploadSession,
  VersionPage,
  VersionRecord,
} from '../../ports.ts';
import { blobChange, blobFactsOf, holdChange } from './dynamoDbBlobs.ts';
import { commitFailure, commitTransaction } from './dynamoDbCommit.ts';
import { expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import {
  auditItem,
  blobOf,
  keys,
  packageKey,
  referencingNamespaces,
  versionOf,
  versionSortKey,
} from './dynamoDbItems.ts';
import { DynamoDbLifecycleIndex } from './dynamoDbLifecycle.ts';
import { MAX_TRANSACTION_ITEMS, releaseSessionReferences } from './dynamoDbReferences.ts';
import type { RetryOptions } from './dynamoDbRetry.ts';
import { scanErrorTransaction, scanTransaction } from './dynamoDbScan.ts';
import { DynamoDbSearch } from './dynamoDbSearch.ts';
import { readSession, readSessionFile, sessionItems } from './dynamoDbSessions.ts';
import { commitInStages } from './dynamoDbStagedCommit.ts';
import { DynamoTable } from './dynamoDbTable.ts';
import { readVersionItem, withVersionFilesAll } from './dynamoDbVersionFiles.ts';

export interface DynamoDbIndexOptions {
  readonly dynamodb: DynamoDBClient;
  readonly table: string;
  readonly retry?: RetryOptions;
  /** @default INDEX_NAMES.minimal */
  readonly indexes?: IndexNames;
}

/** Optimistic writes that lost a race re-read and try again this many times before giving up. */
const MAX_REBUILDS = 10;
/** A process re-lists a package after forgetting it: one idempotent Put more in a later commit. */
const MAX_REMEMBERED_PACKAGES = 10_000;

/**
 * The index on one DynamoDB table (docs/table-design.md). Every multi-item change is one
 * TransactWriteItems whose conditions re-check what was read; a cancelled transaction is mapped to
 * the domain error of the item that failed, by its position. Stages, leases, retention and GC live
 * in the parts `DynamoDbLifecycleIndex` composes.
 */
export class DynamoDbIndex extends DynamoDbLifecycleIndex implements Index {
  constructor(options: DynamoDbIndexOptions) {
    super(new DynamoTable(options.dynamodb, options.table, options.retry, options.indexes));
  }

  /** Session + audit + a hold on each `exists` blob (its grace then runs from the session's expiry). */
  async createSession(session: UploadSession, audit: AuditEvent): Promise<void> {
    const held = [...new Set(session.files.filter((f) => f.action === 'exists').map((f) => f.sha256))];
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const blobs = held.length > 0 ? await this.table.getMany(held.map(keys.blob)) : [];
      const holds = blobs.flatMap(
        (b) => holdChange(this.table.name, blobFactsOf(b), session.expiresAt) ?? [],
      );
      const [header, ...fileItems] = sessionItems(session);
      // More holds than one transaction takes go first, a batch at a time: a hold without its
      // session (a crash in between) only makes GC wait until that session would have expired.
      if (holds.length > MAX_TRANSACTION_ITEMS - 2 - fileItems.length) {
        if (await this.holdInBatches(holds)) continue;
        holds.length = 0;
      }
      const failed = await this.table.transact([
        {
          Put: {
            TableName: this.table.name,
            Item: toAttributes(header!),
            ...expression({ condition: 'attribute_not_exists(#pk)' }),
          },
        },
        { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
        ...fileItems.map((item) => ({ Put: { TableName: this.table.name, Item: toAttributes(item) } })),
        ...holds,
      ]);
      if (!failed) return;
      if (failed[0]?.code === 'ConditionalCheckFailed')
        throw new ConflictError(`upload ${session.uploadId} already exists`);
      // A held blob changed since it was read (a commit, scan or GC step): read it again.
    }
    throw new ConflictError(`the content of upload ${session.uploadId} kept changing; try again`);
  }

  /** Applies holds a batch per transaction; true when one of them changed meanwhile (read again). */
  private async holdInBatches(holds: readonly TransactWriteItem[]): Promise<boolean> {
    for (let at = 0; at < holds.length; at += MAX_TRANSACTION_ITEMS) {
      if (await this.table.transact(holds.slice(at, at + MAX_TRANSACTION_ITEMS))) return true;
    }
    return false;
  }

  async pinBlob(sha256: Sha256, size: number, until: Date): Promise<void> {
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const read = blobFactsOf(await this.table.get(keys.blob(sha256)));
      if (read?.state === 'deleting') {
        throw new ConflictError(`blob ${sha256} is being deleted by GC; retry`, {
          details: { reason: 'blobDeleting' },
        });
      }
      const at = until.toISOString();
      const change = read
        ? holdChange(this.table.name, read, at)
        : blobChange(this.table.name, null, {
            sha256,
            size,
            state: 'pending',
            refcount: 0,
            unreferencedSince: at,
          });
      if (!change || (await this.table.update(change.Update!))) return;
    }
    throw new ConflictError(`blob ${sha256} kept changing while it was pinned; try again`);
  }

  async getSession(uploadId: string): Promise<StoredSession | null> {
    return readSession(this.table, uploadId);
  }

  /** Two items, whatever the number of files: the session item and the one holding this file. */
  async getSessionFile(uploadId: string, fileIndex: number): Promise<SessionFileView | null> {
    const read = await readSessionFile(this.table, uploadId, fileIndex);
    return read && { session: read.session, file: read.file };
  }

  async commitSession(input: CommitInput, audit: AuditEvent): Promise<void> {
    const v = input.version;
    // Search entries first: each is checked against the version when read, so one whose commit
    // then fails (or never happens) is never answered.
    await this.search.write(v);
    const pkg = packageKey(v.namespace, v.package);
    const listPackage = !this.listedPackages.has(pkg);
    const { items, blobs } = commitTransaction(this.table.name, input, audit, { listPackage });
    if (items.length > MAX_TRANSACTION_ITEMS) {
      await commitInStages(this.table, input, audit, { listPackage });
    } else {
      const reasons = await this.table.transact(items);
      if (reasons) throw commitFailure(input, reasons, blobs);
    }
    if (listPackage) this.rememberListed(pkg);
  }

  /** Packages whose work-list entry a commit of this process wrote (GC never removes one). */
  private readonly listedPackages = new Set<string>();

  private rememberListed(pkg: string): void {
    if (this.listedPackages.size >= MAX_REMEMBERED_PACKAGES) this.listedPackages.clear();
    this.listedPackages.add(pkg);
  }

  async abortSession(uploadId: string, audit: AuditEvent): Promise<StoredSession> {
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const session = await this.getSession(uploadId);
      if (!session) throw new NotFoundError(`upload ${uploadId} not found`);
      if (session.state === 'committed') throw new ConflictError(`upload ${uploadId} is already committed`);
      if (session.state === 'aborted') {
        await releaseSessionReferences(this.table, uploadId, new Date(audit.at)); // an abort stopped part-way
        return session;
      }
      const failed = await this.table.transact([
        {
          Update: {
            TableName: this.table.name,
            Key: toAttributes(keys.session(uploadId)),
            ...updateExpression({
              update: 'SET #state = :aborted, #revision = #revision + :one REMOVE #gsi2pk, #gsi2sk',
              condition: '#revision = :rev',
              values: { ':aborted': 'aborted', ':one': 1, ':rev': session.revision },
            }),
          },
        },
        { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
      ]);
      if (!failed) {
        // A commit killed part-way may have taken references for this session: they are nobody's now.
        await releaseSessionReferences(this.table, uploadId, new Date(audit.at));
        return { ...session, state: 'aborted', revision: session.revision + 1 };
      }
    }
    throw new ConflictError(`upload ${uploadId} kept changing during the abort; try again`);
  }

  /** One item, or for a version of more than 64 files one snapshot of it and its file items. */
  async getVersion(namespace: string, pkg: string, version: string): Promise<VersionRecord | null> {
    const item = await readVersionItem(this.table, { namespace, package: pkg, version });
    return item ? versionOf(item) : null;
  }

  /**
   * Reads gsi1 backwards. A page may stop short of `limit` when DynamoDB's 1 MB page fills first, so
   * this keeps querying; reading one entry more than asked tells whether another page exists. gsi1
   * holds a version's keys, `state` and a few small attributes, not its files: the page's versions are
   * then read from the table (consistent), and one deleted since the index was written is left out.
   */
  async listVersions(
    namespace: string,
    pkg: string,
    limit: number,
    after?: string,
    options: { readonly includeDeleted?: boolean } = {},
  ): Promise<VersionPage> {
    const gsi1pk = packageKey(namespace, pkg);
    let start = after === undefined ? undefined : startKey(gsi1pk, after);
    const entries: Record<string, unknown>[] = [];
    // Deleted versions are filtered after DynamoDB's Limit: a page short of them queries on.
    const hideDeleted = options.includeDeleted
      ? {}
      : { FilterExpression: '#state <> :deleted', ExpressionAttributeNames: { '#state': 'state' } };
    do {
      const page = await this.table.query({
        IndexName: this.table.indexes.gsi1,
        KeyConditionExpression: '#gsi1pk = :pk',
        ...hideDeleted,
        ExpressionAttributeNames: { '#gsi1pk': 'gsi1pk', ...hideDeleted.ExpressionAttributeNames },
        ExpressionAttributeValues: toAttributes({
          ':pk': gsi1pk,
          ...(options.includeDeleted ? {} : { ':deleted': 'deleted' }),
        }),
        ScanIndexForward: false,
        Limit: limit + 1 - entries.length,
        ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
      });
      entries.push(...page.items);
      start = page.lastKey;
    } while (start && entries.length <= limit);
    const shown = entries.slice(0, limit);
    const last = shown.at(-1);
    const listed = (await this.table.getListed(shown)).filter(
      (item) => options.includeDeleted || item.state !== 'deleted',
    );
    const versions = await withVersionFilesAll(this.table, listed);
    return {
      items: versions.map(versionOf),
      ...(entries.length > limit && last ? { next: JSON.stringify([last.gsi1sk, last.version]) } : {}),
    };
  }

  private readonly search = new DynamoDbSearch(this.table);

  searchByBlob(
    sha256: Sha256,
    namespaces: '*' | readonly string[],
    limit: number,
    after?: string,
  ): Promise<VersionPage> {
    return this.search.byBlob(sha256, namespaces, limit, after);
  }

  searchByMetadata(
    namespace: string,
    key: string,
    value: string,
    limit: number,
    after?: string,
  ): Promise<VersionPage> {
    return this.search.byMetadata(namespace, key, value, limit, after);
  }

  async getBlobs(sha256s: readonly Sha256[]): Promise<Map<Sha256, BlobRecord>> {
    const unique = [...new Set(sha256s)];
    const items = await this.table.getMany(unique.map(keys.blob));
    return new Map(items.map((i) => [i.sha256 as Sha256, blobOf(i)]));
  }

  async referencedBlobs(
    sha256s: readonly Sha256[],
    namespaces: '*' | readonly string[],
  ): Promise<Set<Sha256>> {
    if (namespaces !== '*' && namespaces.length === 0) return new Set();
    const items = await this.table.getMany([...new Set(sha256s)].map(keys.blob));
    return new Set(
      items
        .filter((item) => {
          const from = referencingNamespaces(item);
          return namespaces === '*' ? from.length > 0 : from.some((ns) => namespaces.includes(ns));
        })
        .map((item) => item.sha256 as Sha256),
    );
  }

  /** Idempotent: a file that already has its verdict is left alone, whatever this outcome says. */
  async recordScan(outcome: ScanOutcome): Promise<RecordedScan> {
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const read = await readSessionFile(this.table, outcome.uploadId, outcome.fileIndex);
      const file = read?.file;
      if (!read || !file || file.verdict) return { recorded: false };
      const { session } = read;
      const [blob, version] = await Promise.all([
        outcome.verdict !== 'rejected' ? this.table.get(keys.blob(outcome.sha256)) : null,
        session.state === 'committed' ? readVersionItem(this.table, session) : null,
      ]);
      const snapshot = { session, raw: read.raw, file, blob: blobFactsOf(blob), version };
      if (!(await this.table.transact(scanTransaction(this.table.name, outcome, snapshot)))) {
        // Written on the revision read: the files waiting are those of that read, less this one.
        return { recorded: true, sessionState: session.state, awaitingScan: read.awaitingScan - 1 };
      }
    }
    throw new ConflictError(`upload ${outcome.uploadId} kept changing while its scan was recorded`);
  }

  async recordScanError(uploadId: string, fileIndex: number, report: ScanReport): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const read = await readSessionFile(this.table, uploadId, fileIndex);
      const file = read?.file;
      if (!read || !file || file.verdict) return false;
      if (sameScanError(file.scanError, report)) return true;
      const { session } = read;
      const version = session.state === 'committed' ? await readVersionItem(this.table, session) : null;
      const snapshot = { session, raw: read.raw, file, version };
      const items = scanErrorTransaction(this.table.name, fileIndex, report, snapshot);
      if (!(await this.table.transact(items))) return true;
    }
    throw new ConflictError(`upload ${uploadId} kept changing while its scan error was recorded`);
  }

  /** A full Scan: run only when the advisory database changes, filtered to blob items with components. */
  async listBlobsWithComponents(): Promise<BlobRecord[]> {
    const items = await this.table.scanAll({
      FilterExpression: '#kind = :blob AND attribute_exists(#scan.#components)',
      ExpressionAttributeNames: { '#kind': 'kind', '#scan': 'scan', '#components': 'components' },
      ExpressionAttributeValues: toAttributes({ ':blob': 'blob' }),
      ConsistentRead: true,
    });
    return items.map(blobOf);
  }

  async setBlobVulnerabilities(sha256: Sha256, vulnerabilities: VulnerabilityReport): Promise<boolean> {
    return this.table.update({
      TableName: this.table.name,
      Key: toAttributes(keys.blob(sha256)),
      ...updateExpression({
        update: 'SET #scan.#vulnerabilities = :vulnerabilities',
        condition: 'attribute_exists(#scan)',
        values: { ':vulnerabilities': vulnerabilities },
      }),
    });
  }
}

/** The ExclusiveStartKey of gsi1 from a `next` position: `[gsi1sk, version]`. */
function startKey(gsi1pk: string, after: string): Record<string, unknown> {
  const [gsi1sk, version] = parsePosition(after, [isString, isString]) as [string, string];
  return { gsi1pk, gsi1sk, pk: gsi1pk, sk: versionSortKey(version) };
}
