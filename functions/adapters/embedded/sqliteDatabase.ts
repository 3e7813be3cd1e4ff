import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** The embedded index's schema. Same meaning as the DynamoDB items (docs/table-design.md). */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  upload_id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open','committed','aborted')),
  revision INTEGER NOT NULL,
  created_at TEXT NOT NULL, expires_at TEXT NOT NULL, created_by TEXT NOT NULL,
  metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (state, expires_at);
-- A row per file (its description as JSON, then what the scan concluded): the scan of one file
-- reads and writes its own row, never the whole list. \`staged\`: bytes are expected (action upload).
CREATE TABLE IF NOT EXISTS session_files (
  upload_id TEXT NOT NULL REFERENCES sessions (upload_id) ON DELETE CASCADE,
  position INTEGER NOT NULL, file TEXT NOT NULL, staged INTEGER NOT NULL,
  verdict TEXT CHECK (verdict IN ('verified','rejected')), rejection TEXT, scan_error TEXT,
  PRIMARY KEY (upload_id, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS session_files_awaiting_scan ON session_files (upload_id)
  WHERE staged = 1 AND verdict IS NULL;
CREATE TABLE IF NOT EXISTS versions (
  namespace TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL,
  seq INTEGER NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('live','deleting','deleted')),
  created_at TEXT NOT NULL, created_by TEXT NOT NULL, upload_id TEXT NOT NULL, metadata TEXT NOT NULL,
  tombstoned_at TEXT, tombstone_reason TEXT,
  PRIMARY KEY (namespace, package, version)
);
CREATE INDEX IF NOT EXISTS versions_tombstoned ON versions (state, tombstoned_at);
DROP INDEX IF EXISTS versions_newest_first;
CREATE INDEX IF NOT EXISTS versions_by_commit_time ON versions (namespace, package, created_at DESC, seq DESC);
CREATE TABLE IF NOT EXISTS files (
  namespace TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL,
  position INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, media_type TEXT NOT NULL,
  staging_key TEXT, rejection TEXT,
  PRIMARY KEY (namespace, package, version, name)
);
CREATE INDEX IF NOT EXISTS files_by_blob ON files (sha256);
CREATE TABLE IF NOT EXISTS version_metadata (
  namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  created_at TEXT NOT NULL, seq INTEGER NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL,
  PRIMARY KEY (namespace, package, version, key)
);
CREATE INDEX IF NOT EXISTS version_metadata_by_value
  ON version_metadata (namespace, key, value, created_at DESC, seq DESC);
-- Kept by the versions table itself, so every commit and every delete writes it in its own
-- transaction, whichever code path makes them.
CREATE TRIGGER IF NOT EXISTS version_metadata_on_commit AFTER INSERT ON versions BEGIN
  INSERT OR IGNORE INTO version_metadata
    SELECT new.namespace, m.key, m.value, new.created_at, new.seq, new.package, new.version
    FROM json_each(new.metadata) AS m;
END;
CREATE TRIGGER IF NOT EXISTS version_metadata_on_delete AFTER DELETE ON versions BEGIN
  DELETE FROM version_metadata
    WHERE namespace = old.namespace AND package = old.package AND version = old.version;
END;
CREATE TABLE IF NOT EXISTS blobs (
  sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','available','quarantined','deleting')),
  refcount INTEGER NOT NULL CHECK (refcount >= 0),
  scan TEXT, created_at TEXT NOT NULL, unreferenced_since TEXT
);
CREATE INDEX IF NOT EXISTS blobs_unreferenced ON blobs (refcount, unreferenced_since);
CREATE INDEX IF NOT EXISTS blobs_deleting ON blobs (sha256) WHERE state = 'deleting';
CREATE TABLE IF NOT EXISTS stages (
  namespace TEXT NOT NULL, package TEXT NOT NULL, stage TEXT NOT NULL, version TEXT NOT NULL,
  promoted_at TEXT NOT NULL, promoted_by TEXT NOT NULL,
  PRIMARY KEY (namespace, package, stage)
);
CREATE INDEX IF NOT EXISTS stages_by_version ON stages (namespace, package, version);
CREATE TABLE IF NOT EXISTS promotions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace TEXT NOT NULL, package TEXT NOT NULL, stage TEXT NOT NULL, version TEXT NOT NULL,
  previous_version TEXT, promoted_at TEXT NOT NULL, promoted_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS promotions_by_stage ON promotions (namespace, package, stage, id);
CREATE INDEX IF NOT EXISTS promotions_by_version ON promotions (namespace, package, version, stage);
CREATE TABLE IF NOT EXISTS leases (
  lease_id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL, holder TEXT NOT NULL,
  created_at TEXT NOT NULL, created_by TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_by_version ON leases (namespace, package, version, expires_at);
CREATE TABLE IF NOT EXISTS policies (namespace TEXT PRIMARY KEY, policy TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, roles TEXT NOT NULL,
  created_at TEXT NOT NULL, created_by TEXT NOT NULL, expires_at TEXT NOT NULL,
  revoked_at TEXT, last_used_at TEXT
);
CREATE TABLE IF NOT EXISTS attestations (
  namespace TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL, id TEXT NOT NULL,
  seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL,
  UNIQUE (namespace, package, version, id)
);
CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gc_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scan_queue (staging_key TEXT PRIMARY KEY, enqueued_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  namespace TEXT NOT NULL, target TEXT NOT NULL, request_id TEXT NOT NULL, details TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_namespace ON audit (namespace, id);
`;

/**
 * Opens (and creates) the SQLite database in WAL mode. `synchronous=NORMAL` under WAL keeps every
 * committed transaction durable across a process crash (kill -9), which is the failure the local
 * store must survive; only an OS crash may lose the last transactions.
 */
export function openDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  migrate(db);
  if (path !== ':memory:') {
    // Only the store's user reads the index (WAL and shared-memory files take the same mode).
    for (const file of [path, `${path}-wal`, `${path}-shm`]) chmodIfPresent(file, 0o600);
  }
  return db;
}

/** Columns added after a table was first created: SQLite has no ADD COLUMN IF NOT EXISTS. */
const ADDED_COLUMNS: readonly { table: string; column: string; definition: string }[] = [
  { table: 'files', column: 'unverified', definition: 'INTEGER NOT NULL DEFAULT 0' },
  // JSON of the last failed scan attempt (status 'error') of a file still pending; NULL otherwise.
  { table: 'files', column: 'scan_error', definition: 'TEXT' },
  // JSON of the committing principal (id, kind, OIDC claims); NULL on versions committed before it.
  { table: 'versions', column: 'publisher', definition: 'TEXT' },
  // Who deleted a version (state 'deleted'), when and why; NULL on versions never deleted.
  { table: 'versions', column: 'deleted_at', definition: 'TEXT' },
  { table: 'versions', column: 'deleted_by', definition: 'TEXT' },
  { table: 'versions', column: 'delete_reason', definition: 'TEXT' },
];

const OLD_VERSION_STATES = "CHECK (state IN ('live','deleting'))";
const VERSION_STATES = "CHECK (state IN ('live','deleting','deleted'))";

function migrate(db: Database.Database): void {
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === column))
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
  allowDeletedVersions(db);
  moveSessionFilesToRows(db);
  // Versions committed before the metadata index existed (idempotent: a no-op once they are in it).
  if (!db.prepare('SELECT 1 FROM version_metadata LIMIT 1').get()) {
    db.exec(`INSERT OR IGNORE INTO version_metadata
      SELECT v.namespace, m.key, m.value, v.created_at, v.seq, v.package, v.version
      FROM versions AS v, json_each(v.metadata) AS m`);
  }
}

/**
 * A versions table made before state `deleted` existed has a CHECK that refuses it, and SQLite cannot
 * alter a CHECK: the table is rebuilt with the same columns (SQLite's documented procedure: create,
 * copy, drop, rename, in one transaction) and its indexes made again.
 */
function allowDeletedVersions(db: Database.Database): void {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'versions'").get() as
    | { sql: string }
    | undefined;
  if (!row?.sql.includes(OLD_VERSION_STATES)) return;
  const rebuilt = row.sql
    .replace(OLD_VERSION_STATES, VERSION_STATES)
    .replace(/^CREATE TABLE "?versions"?/, 'CREATE TABLE versions_rebuilt');
  db.transaction(() => {
    db.exec(rebuilt);
    db.exec('INSERT INTO versions_rebuilt SELECT * FROM versions');
    db.exec('DROP TABLE versions');
    db.exec('ALTER TABLE versions_rebuilt RENAME TO versions');
    db.exec(SCHEMA);
  }).immediate();
}

/**
 * Sessions used to keep their file list (with each file's verdict) as one JSON column, rewritten by
 * every file's scan. An index from then has its lists moved into \`session_files\`, in one transaction.
 */
function moveSessionFilesToRows(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(sessions)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'files')) return;
  db.transaction(() => {
    db.exec(`INSERT OR IGNORE INTO session_files
      SELECT s.upload_id, f.key, json_remove(f.value, '$.verdict', '$.rejection', '$.scanError'),
        json_extract(f.value, '$.action') = 'upload', json_extract(f.value, '$.verdict'),
        json_extract(f.value, '$.rejection'), json_extract(f.value, '$.scanError')
      FROM sessions AS s, json_each(s.files) AS f`);
    db.exec('ALTER TABLE sessions DROP COLUMN files');
  }).immediate();
}

function chmodIfPresent(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
