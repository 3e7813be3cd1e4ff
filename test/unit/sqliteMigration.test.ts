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
