import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import { SqliteIndex } from '../../functions/adapters/embedded/sqliteIndex.ts';
import { audit } from '../support/fixtures.ts';

/** The versions table as stores made before state `deleted` existed have it. */
const OLD_VERSIONS = `CREATE TABLE versions (
  namespace TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL,
  seq INTEGER NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('live','deleting')),
  created_at TEXT NOT NULL, created_by TEXT NOT NULL, upload_id TEXT NOT NULL, metadata TEXT NOT NULL,
  tombstoned_at TEXT, tombstone_reason TEXT,
  PRIMARY KEY (namespace, package, version)
);
INSERT INTO versions VALUES ('ns', 'pkg', '1', 1, 'live', '2026-01-01T00:00:00.000Z', 'ci', 'up-1', '{"commit":"abc"}', NULL, NULL);`;

describe('opening an embedded index made before versions could be deleted', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arca-migrate-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('rebuilds the versions table to accept deleted, keeping every row and index', async () => {
    const path = join(dir, 'index.sqlite');
    const old = new Database(path);
    old.exec(OLD_VERSIONS);
    old.close();

    const db = openDatabase(path);
    const index = new SqliteIndex(db);
    const now = new Date();
    const marked = await index.markVersionDeleted(
      { namespace: 'ns', package: 'pkg', version: '1' },
      { at: now.toISOString(), by: 'admin', reason: 'CVE' },
      now,
      audit('version.delete'),
    );

    expect(marked).toBe(true);
    expect(await index.getVersion('ns', 'pkg', '1')).toMatchObject({
      state: 'deleted',
      createdBy: 'ci',
      metadata: { commit: 'abc' },
      deletion: { by: 'admin', reason: 'CVE' },
    });
    const indexes = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'versions'").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    expect(indexes).toEqual(expect.arrayContaining(['versions_tombstoned', 'versions_by_commit_time']));
    db.close();
    // Opening it again changes nothing more.
    const again = openDatabase(path);
    expect((again.prepare('SELECT COUNT(*) AS n FROM versions').get() as { n: number }).n).toBe(1);
    again.close();
  });
});

/** The sessions table as stores made before session files had rows of their own have it. */
const OLD_SESSIONS = `CREATE TABLE sessions (
  upload_id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open','committed','aborted')),
  revision INTEGER NOT NULL,
  created_at TEXT NOT NULL, expires_at TEXT NOT NULL, created_by TEXT NOT NULL,
  metadata TEXT NOT NULL, files TEXT NOT NULL
);`;

describe('opening an embedded index whose sessions kept their files as one JSON list', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arca-migrate-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const sha = (c: string) => c.repeat(64);
  const files = [
    {
      name: 'a.txt',
      size: 1,
      sha256: sha('a'),
      mediaType: 'text/plain',
      action: 'upload',
      stagingKey: 'staging/up-1/0',
      verdict: 'verified',
    },
    {
      name: 'b.txt',
      size: 2,
      sha256: sha('b'),
      mediaType: 'text/plain',
      action: 'upload',
      stagingKey: 'staging/up-1/1',
      verdict: 'rejected',
      rejection: {
        status: 'infected',
        findings: [{ scanner: 'digest', rule: 'size-mismatch', message: 'm' }],
        scannedAt: '2026-01-01T00:00:00.000Z',
      },
    },
    {
      name: 'c.txt',
      size: 3,
      sha256: sha('c'),
      mediaType: 'text/plain',
      action: 'upload',
      stagingKey: 'staging/up-1/2',
    },
    { name: 'd.txt', size: 4, sha256: sha('d'), mediaType: 'text/plain', action: 'exists' },
  ];

  it('moves every file, with its verdict and findings, into rows of its own, once', async () => {
    const path = join(dir, 'index.sqlite');
    const old = new Database(path);
    old.exec(OLD_SESSIONS);
    old
      .prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(
        'up-1',
        'ns',
        'pkg',
        '1',
        'open',
        3,
        '2026-01-01T00:00:00.000Z',
        '2999-01-01T00:00:00.000Z',
        'ci',
        '{}',
        JSON.stringify(files),
      );
    old.close();

    const db = openDatabase(path);
    const index = new SqliteIndex(db);
    const session = await index.getSession('up-1');
    expect(session).toMatchObject({ uploadId: 'up-1', state: 'open', revision: 3, files });
    expect(session?.files[2]).not.toHaveProperty('verdict');
    expect(await index.getSessionFile('up-1', 1)).toMatchObject({ session: { revision: 3 }, file: files[1] });
    const recorded = await index.recordScan({
      uploadId: 'up-1',
      fileIndex: 2,
      sha256: sha('c'),
      size: 3,
      verdict: 'verified',
      report: { status: 'clean', findings: [], scannedAt: '2026-01-01T00:00:00.000Z' },
      at: new Date('2026-01-01T00:00:00.000Z'),
    });
    expect(recorded).toEqual({ recorded: true, sessionState: 'open', awaitingScan: 0 });
    const columns = (db.prepare('PRAGMA table_info(sessions)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    expect(columns).not.toContain('files');
    db.close();
    const again = openDatabase(path);
    expect((again.prepare('SELECT COUNT(*) AS n FROM session_files').get() as { n: number }).n).toBe(4);
    again.close();
  });
});
