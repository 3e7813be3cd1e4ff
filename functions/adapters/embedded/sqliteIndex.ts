import type Database from 'better-sqlite3';
import { isString, parsePosition } from '../../core/cursor.ts';
import { ConflictError, NotFoundError, UploadExpiredError, VersionExistsError } from '../../core/errors.ts';
import type {
  BlobRecord,
  ScanReport,
  SessionFile,
  VersionFileRecord,
  VulnerabilityReport,
} from '../../core/model.ts';
import { sameScanError } from '../../core/scanErrors.ts';
import type {
  AuditEvent,
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
import { SqliteAccessIndex } from './sqliteAccess.ts';
import { SqliteSearch } from './sqliteSearch.ts';

interface SessionRow {
  upload_id: string;
  namespace: string;
  package: string;
  version: string;
  state: StoredSession['state'];
  revision: number;
  created_at: string;
  expires_at: string;
  created_by: string;
  metadata: string;
}

interface SessionFileRow {
  file: string;
  verdict: SessionFile['verdict'] | null;
  rejection: string | null;
  scan_error: string | null;
}

interface VersionRow {
  namespace: string;
  package: string;
  version: string;
  seq: number;
  state: VersionRecord['state'];
  created_at: string;
  created_by: string;
  upload_id: string;
  metadata: string;
  publisher: string | null;
  deleted_at: string | null;
  deleted_by: string | null;
  delete_reason: string | null;
}

interface FileRow {
  name: string;
  sha256: string;
  size: number;
  media_type: string;
  staging_key: string | null;
  rejection: string | null;
  unverified: number;
  scan_error: string | null;
}

interface BlobRow {
  sha256: string;
  size: number;
  state: BlobRecord['state'];
  refcount: number;
  scan: string | null;
}

const toSessionHeader = (r: SessionRow): Omit<StoredSession, 'files'> => ({
  uploadId: r.upload_id,
  namespace: r.namespace,
  package: r.package,
  version: r.version,
  state: r.state,
  revision: r.revision,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  createdBy: r.created_by,
  metadata: JSON.parse(r.metadata),
});

const toSessionFile = (r: SessionFileRow): SessionFile => ({
  ...JSON.parse(r.file),
  ...(r.verdict === null ? {} : { verdict: r.verdict }),
  ...(r.rejection === null ? {} : { rejection: JSON.parse(r.rejection) }),
  ...(r.scan_error === null ? {} : { scanError: JSON.parse(r.scan_error) }),
});

/** A JSON column's value: NULL for an absent field. */
const jsonOrNull = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** A file's description, without what its scan concluded (kept in columns of their own). */
function sessionFileJson(file: SessionFile): string {
  const { verdict: _v, rejection: _r, scanError: _e, ...described } = file;
  return JSON.stringify(described);
}

const toFile = (r: FileRow): VersionFileRecord => ({
  name: r.name,
  sha256: r.sha256,
  size: r.size,
  mediaType: r.media_type,
  ...(r.staging_key === null ? {} : { stagingKey: r.staging_key }),
  ...(r.rejection === null ? {} : { rejection: JSON.parse(r.rejection) }),
  ...(r.unverified ? { unverified: true } : {}),
  ...(r.scan_error === null ? {} : { scanError: JSON.parse(r.scan_error) }),
});

const toBlob = (r: BlobRow): BlobRecord => ({
  sha256: r.sha256,
  size: r.size,
  state: r.state,
  refcount: r.refcount,
  ...(r.scan === null ? {} : { scan: JSON.parse(r.scan) }),
});

/**
 * The embedded index on SQLite. Statements are prepared once; every multi-row change runs in one
 * `BEGIN IMMEDIATE` transaction, so its checks and writes see no interleaving writer.
 */
export class SqliteIndex extends SqliteAccessIndex implements Index {
  private readonly s;
  private readonly search: SqliteSearch<VersionRow>;

  constructor(db: Database.Database) {
    super(db);
    this.search = new SqliteSearch<VersionRow>(db, (row) => this.readVersion(row));
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insertSession: p(`INSERT INTO sessions (upload_id, namespace, package, version, state, revision,
        created_at, expires_at, created_by, metadata) VALUES (@upload_id, @namespace, @package, @version,
        'open', 0, @created_at, @expires_at, @created_by, @metadata)`),
      insertSessionFile: p(`INSERT INTO session_files (upload_id, position, file, staged, verdict, rejection,
        scan_error) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      getSession: p('SELECT * FROM sessions WHERE upload_id = ?'),
      sessionFiles: p(`SELECT file, verdict, rejection, scan_error FROM session_files WHERE upload_id = ?
        ORDER BY position`),
      sessionFile: p(`SELECT file, verdict, rejection, scan_error FROM session_files
        WHERE upload_id = ? AND position = ?`),
      setSession: p('UPDATE sessions SET state = ?, revision = revision + 1 WHERE upload_id = ?'),
      setFileVerdict: p(`UPDATE session_files SET verdict = ?, rejection = ?, scan_error = NULL
        WHERE upload_id = ? AND position = ?`),
      setFileScanError: p('UPDATE session_files SET scan_error = ? WHERE upload_id = ? AND position = ?'),
      awaitingScan: db.prepare<[string], { n: number }>(
        'SELECT count(*) AS n FROM session_files WHERE upload_id = ? AND staged = 1 AND verdict IS NULL',
      ),
      versionExists: p('SELECT 1 FROM versions WHERE namespace = ? AND package = ? AND version = ?'),
      getVersion: p('SELECT * FROM versions WHERE namespace = ? AND package = ? AND version = ?'),
      files:
        p(`SELECT name, sha256, size, media_type, staging_key, rejection, unverified, scan_error FROM files
        WHERE namespace = ? AND package = ? AND version = ? ORDER BY position`),
      // Newest commit first: by commit time, and in commit order within one instant (as on DynamoDB).
      listFirst: p(`SELECT * FROM versions WHERE namespace = ? AND package = ?
        AND (? = 1 OR state != 'deleted') ORDER BY created_at DESC, seq DESC LIMIT ?`),
      listAfter: p(`SELECT * FROM versions WHERE namespace = ? AND package = ? AND (created_at, seq) < (?, ?)
        AND (? = 1 OR state != 'deleted') ORDER BY created_at DESC, seq DESC LIMIT ?`),
      insertVersion: p(`INSERT INTO versions
        (namespace, package, version, seq, state, created_at, created_by, upload_id, metadata, publisher)
        VALUES (@namespace, @package, @version, (SELECT COALESCE(MAX(seq), 0) + 1 FROM versions), 'live',
          @created_at, @created_by, @upload_id, @metadata, @publisher)`),
      insertFile: p(`INSERT INTO files (namespace, package, version, name, position, sha256, size, media_type,
        staging_key, rejection, unverified, scan_error) VALUES (@namespace, @package, @version, @name,
        @position, @sha256, @size, @media_type, @staging_key, @rejection, @unverified, @scan_error)`),
      rejectFile: p(
        `UPDATE files SET rejection = ?, scan_error = NULL
          WHERE namespace = ? AND package = ? AND version = ? AND name = ?`,
      ),
      verifyFile: p(
        `UPDATE files SET unverified = 0, scan_error = NULL
          WHERE namespace = ? AND package = ? AND version = ? AND name = ?`,
      ),
      fileScanError: p(`UPDATE files SET scan_error = ?
        WHERE namespace = ? AND package = ? AND version = ? AND name = ? AND rejection IS NULL`),
      blobState: p('SELECT state FROM blobs WHERE sha256 = ?'),
      blobNamespaces: p('SELECT DISTINCT namespace FROM files WHERE sha256 = ?'),
      getBlob: p('SELECT sha256, size, state, refcount, scan FROM blobs WHERE sha256 = ?'),
      refBlob: p(`INSERT INTO blobs VALUES (?, ?, 'pending', 1, NULL, ?, NULL)
        ON CONFLICT (sha256) DO UPDATE SET refcount = refcount + 1, unreferenced_since = NULL`),
      verifyBlob: p(`INSERT INTO blobs VALUES (?, ?, 'available', 0, ?, ?, ?)
        ON CONFLICT (sha256) DO UPDATE SET scan = excluded.scan,
          state = CASE WHEN state = 'pending' THEN 'available' ELSE state END,
          unreferenced_since = MAX(COALESCE(unreferenced_since, ''), excluded.unreferenced_since)`),
      holdBlob: p(`UPDATE blobs SET unreferenced_since = MAX(COALESCE(unreferenced_since, ''), ?)
        WHERE sha256 = ?`),
      pinBlob: p(`INSERT INTO blobs VALUES (?, ?, 'pending', 0, NULL, ?, ?)
        ON CONFLICT (sha256) DO UPDATE SET unreferenced_since = MAX(COALESCE(unreferenced_since, ''), excluded.unreferenced_since)`),
      quarantineBlob: p(`INSERT INTO blobs VALUES (?, ?, 'quarantined', 0, ?, ?, ?)
        ON CONFLICT (sha256) DO UPDATE SET scan = excluded.scan, state = 'quarantined'`),
    };
  }

  protected readSessionRow(row: unknown): StoredSession {
    return this.toSession(row as SessionRow);
  }

  private toSession(row: SessionRow): StoredSession {
    const files = this.s.sessionFiles.all(row.upload_id) as SessionFileRow[];
    return { ...toSessionHeader(row), files: files.map(toSessionFile) };
  }

  async createSession(session: UploadSession, audit: AuditEvent): Promise<void> {
    this.db
      .transaction(() => {
        this.s.insertSession.run({
          upload_id: session.uploadId,
          namespace: session.namespace,
          package: session.package,
          version: session.version,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
          created_by: session.createdBy,
          metadata: JSON.stringify(session.metadata),
        });
        for (const [position, f] of session.files.entries()) {
          this.s.insertSessionFile.run(
            session.uploadId,
            position,
            sessionFileJson(f),
            f.action === 'upload' ? 1 : 0,
            f.verdict ?? null,
            jsonOrNull(f.rejection),
            jsonOrNull(f.scanError),
          );
        }
        for (const f of session.files)
          if (f.action === 'exists') this.s.holdBlob.run(session.expiresAt, f.sha256);
        this.writeAudit(audit);
      })
      .immediate();
  }

  async getSession(uploadId: string): Promise<StoredSession | null> {
    const row = this.s.getSession.get(uploadId) as SessionRow | undefined;
    return row ? this.toSession(row) : null;
  }

  async getSessionFile(uploadId: string, fileIndex: number): Promise<SessionFileView | null> {
    const row = this.s.getSession.get(uploadId) as SessionRow | undefined;
    if (!row) return null;
    const file = this.s.sessionFile.get(uploadId, fileIndex) as SessionFileRow | undefined;
    return { session: toSessionHeader(row), file: file && toSessionFile(file) };
  }

  async commitSession(input: CommitInput, audit: AuditEvent): Promise<void> {
    const v = input.version;
    this.db
      .transaction(() => {
        const row = this.s.getSession.get(input.uploadId) as SessionRow | undefined;
        if (!row) throw new NotFoundError(`upload ${input.uploadId} not found`);
        if (row.state !== 'open' || row.revision !== input.sessionRevision) {
          throw new ConflictError(`upload ${input.uploadId} changed during the commit`, {
            details: { reason: 'sessionChanged' },
          });
        }
        if (this.s.versionExists.get(v.namespace, v.package, v.version)) {
          throw new VersionExistsError(`version ${v.namespace}/${v.package}@${v.version} already exists`);
        }
        if (row.expires_at <= input.now.toISOString()) {
          throw new UploadExpiredError(`upload ${input.uploadId} expired at ${row.expires_at}`);
        }
        const stateOf = (sha: string) => (this.s.blobState.get(sha) as { state: string } | undefined)?.state;
        const gone = input.availableBlobs.filter((sha) => stateOf(sha) !== 'available');
        if (gone.length > 0) {
          throw new ConflictError('content this version relies on is no longer stored; upload it again', {
            details: { reason: 'blobGone', blobs: gone },
          });
        }
        const deleting = [...new Set(v.files.map((f) => f.sha256))].filter(
          (sha) => stateOf(sha) === 'deleting',
        );
        if (deleting.length > 0) {
          throw new ConflictError('content is being deleted by GC; upload it again', {
            details: { reason: 'blobDeleting', blobs: deleting },
          });
        }
        this.s.insertVersion.run({
          namespace: v.namespace,
          package: v.package,
          version: v.version,
          created_at: v.createdAt,
          created_by: v.createdBy,
          upload_id: v.uploadId,
          metadata: JSON.stringify(v.metadata),
          publisher: jsonOrNull(v.publisher),
        });
        for (const [position, f] of v.files.entries()) {
          this.s.insertFile.run({
            namespace: v.namespace,
            package: v.package,
            version: v.version,
            name: f.name,
            position,
            sha256: f.sha256,
            size: f.size,
            media_type: f.mediaType,
            staging_key: f.stagingKey ?? null,
            rejection: jsonOrNull(f.rejection),
            unverified: f.unverified ? 1 : 0,
            scan_error: jsonOrNull(f.scanError),
          });
          this.s.refBlob.run(f.sha256, f.size, v.createdAt);
        }
        this.s.setSession.run('committed', input.uploadId);
        this.writeAudit(audit);
      })
      .immediate();
  }

  async abortSession(uploadId: string, audit: AuditEvent): Promise<StoredSession> {
    return this.db
      .transaction(() => {
        const row = this.s.getSession.get(uploadId) as SessionRow | undefined;
        if (!row) throw new NotFoundError(`upload ${uploadId} not found`);
        if (row.state === 'committed') throw new ConflictError(`upload ${uploadId} is already committed`);
        if (row.state === 'open') {
          this.s.setSession.run('aborted', uploadId);
          this.writeAudit(audit);
        }
        return this.toSession(this.s.getSession.get(uploadId) as SessionRow);
      })
      .immediate();
  }

  private readVersion(row: VersionRow): VersionRecord {
    const files = (this.s.files.all(row.namespace, row.package, row.version) as FileRow[]).map(toFile);
    return {
      namespace: row.namespace,
      package: row.package,
      version: row.version,
      state: row.state,
      createdAt: row.created_at,
      createdBy: row.created_by,
      uploadId: row.upload_id,
      metadata: JSON.parse(row.metadata),
      files,
      ...(row.publisher === null ? {} : { publisher: JSON.parse(row.publisher) }),
      ...(row.deleted_at === null
        ? {}
        : { deletion: { at: row.deleted_at, by: row.deleted_by ?? '', reason: row.delete_reason ?? '' } }),
    };
  }

  async getVersion(namespace: string, pkg: string, version: string): Promise<VersionRecord | null> {
    const row = this.s.getVersion.get(namespace, pkg, version) as VersionRow | undefined;
    return row ? this.readVersion(row) : null;
  }

  async listVersions(
    namespace: string,
    pkg: string,
    limit: number,
    after?: string,
    options: { readonly includeDeleted?: boolean } = {},
  ): Promise<VersionPage> {
    const all = options.includeDeleted ? 1 : 0;
    const rows = (
      after === undefined
        ? this.s.listFirst.all(namespace, pkg, all, limit + 1)
        : this.s.listAfter.all(
            namespace,
            pkg,
            ...(parsePosition(after, [isString, Number.isSafeInteger]) as [string, number]),
            all,
            limit + 1,
          )
    ) as VersionRow[];
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return {
      items: page.map((r) => this.readVersion(r)),
      ...(more ? { next: JSON.stringify([page.at(-1)!.created_at, page.at(-1)!.seq]) } : {}),
    };
  }

  async searchByBlob(
    sha256: Sha256,
    namespaces: '*' | readonly string[],
    limit: number,
    after?: string,
  ): Promise<VersionPage> {
    return this.search.byBlob(sha256, namespaces, limit, after);
  }

  async searchByMetadata(
    namespace: string,
    key: string,
    value: string,
    limit: number,
    after?: string,
  ): Promise<VersionPage> {
    return this.search.byMetadata(namespace, key, value, limit, after);
  }

  async getBlobs(sha256s: readonly Sha256[]): Promise<Map<Sha256, BlobRecord>> {
    const found = new Map<Sha256, BlobRecord>();
    for (const sha of sha256s) {
      const row = this.s.getBlob.get(sha) as BlobRow | undefined;
      if (row) found.set(sha, toBlob(row));
    }
    return found;
  }

  async referencedBlobs(
    sha256s: readonly Sha256[],
    namespaces: '*' | readonly string[],
  ): Promise<Set<Sha256>> {
    const found = new Set<Sha256>();
    if (namespaces !== '*' && namespaces.length === 0) return found;
    for (const sha of new Set(sha256s)) {
      const rows = this.s.blobNamespaces.all(sha) as { namespace: string }[];
      if (rows.some((r) => namespaces === '*' || namespaces.includes(r.namespace))) found.add(sha);
    }
    return found;
  }

  async pinBlob(sha256: Sha256, size: number, until: Date): Promise<void> {
    this.db
      .transaction(() => {
        const state = (this.s.blobState.get(sha256) as { state: string } | undefined)?.state;
        if (state === 'deleting') {
          throw new ConflictError(`blob ${sha256} is being deleted by GC; retry`, {
            details: { reason: 'blobDeleting' },
          });
        }
        const at = until.toISOString();
        this.s.pinBlob.run(sha256, size, at, at);
      })
      .immediate();
  }

  async recordScan(outcome: ScanOutcome): Promise<RecordedScan> {
    return this.db
      .transaction((): RecordedScan => {
        const { uploadId, fileIndex } = outcome;
        const row = this.s.getSession.get(uploadId) as SessionRow | undefined;
        const fileRow = row && (this.s.sessionFile.get(uploadId, fileIndex) as SessionFileRow | undefined);
        if (!row || !fileRow || fileRow.verdict) return { recorded: false }; // unknown file, or a redelivery
        const file = toSessionFile(fileRow);
        const at = outcome.at.toISOString();
        const scan = JSON.stringify(outcome.report);
        const heldUntil = [at, row.expires_at].sort().at(-1)!; // ISO times: the later one
        if (outcome.verdict === 'verified')
          this.s.verifyBlob.run(outcome.sha256, outcome.size, scan, at, heldUntil);
        if (outcome.verdict === 'infected')
          this.s.quarantineBlob.run(outcome.sha256, outcome.size, scan, at, at);
        const rejected = outcome.verdict !== 'verified';
        if (row.state === 'committed') {
          const where = [row.namespace, row.package, row.version, file.name];
          if (rejected) this.s.rejectFile.run(scan, ...where);
          else this.s.verifyFile.run(...where);
        }
        this.s.setFileVerdict.run(
          rejected ? 'rejected' : 'verified',
          rejected ? scan : null,
          uploadId,
          fileIndex,
        );
        this.s.setSession.run(row.state, uploadId);
        const awaiting = this.s.awaitingScan.get(uploadId)!.n;
        return { recorded: true, sessionState: row.state, awaitingScan: awaiting };
      })
      .immediate();
  }

  async recordScanError(uploadId: string, fileIndex: number, report: ScanReport): Promise<boolean> {
    return this.db
      .transaction(() => {
        const row = this.s.getSession.get(uploadId) as SessionRow | undefined;
        const fileRow = row && (this.s.sessionFile.get(uploadId, fileIndex) as SessionFileRow | undefined);
        const file = fileRow && toSessionFile(fileRow);
        if (!row || !file || file.verdict) return false;
        if (sameScanError(file.scanError, report)) return true;
        if (row.state === 'committed') {
          const where = [row.namespace, row.package, row.version, file.name];
          this.s.fileScanError.run(JSON.stringify(report), ...where);
        }
        this.s.setFileScanError.run(JSON.stringify(report), uploadId, fileIndex);
        this.s.setSession.run(row.state, uploadId);
        return true;
      })
      .immediate();
  }

  async listBlobsWithComponents(): Promise<BlobRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM blobs WHERE scan IS NOT NULL AND json_type(scan, '$.components') = 'array'")
      .all() as BlobRow[];
    return rows.map(toBlob);
  }

  async setBlobVulnerabilities(sha256: Sha256, vulnerabilities: VulnerabilityReport): Promise<boolean> {
    const update = this.db.prepare(
      "UPDATE blobs SET scan = json_set(scan, '$.vulnerabilities', json(?)) WHERE sha256 = ? AND scan IS NOT NULL",
    );
    return update.run(JSON.stringify(vulnerabilities), sha256).changes > 0;
  }
}
