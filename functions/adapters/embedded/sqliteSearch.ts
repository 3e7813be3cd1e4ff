import type Database from 'better-sqlite3';
import { isString, parsePosition } from '../../core/cursor.ts';
import type { Sha256, VersionPage, VersionRecord } from '../../ports.ts';

/**
 * GET /v1/search on SQLite: by blob through the files table's `files_by_blob` index, by metadata
 * through `version_metadata` (kept by triggers on the versions table), both keyset-paged and
 * answering live versions only.
 */
export class SqliteSearch<
  Row extends { namespace: string; package: string; version: string; created_at: string; seq: number },
> {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly read: (row: Row) => VersionRecord,
  ) {
    const byBlob = `SELECT DISTINCT v.* FROM files AS f
      JOIN versions AS v ON v.namespace = f.namespace AND v.package = f.package AND v.version = f.version
      WHERE f.sha256 = :sha AND v.state = 'live' AND (:all = 1 OR v.namespace IN (SELECT value FROM json_each(:namespaces)))
        AND (v.namespace, v.package, v.version) > (:ns, :pkg, :version)
      ORDER BY v.namespace, v.package, v.version LIMIT :limit`;
    const byMetadata = `SELECT v.* FROM version_metadata AS m
      JOIN versions AS v ON v.namespace = m.namespace AND v.package = m.package AND v.version = m.version
      WHERE m.namespace = :namespace AND m.key = :key AND m.value = :value AND v.state = 'live'
        AND (m.created_at, m.seq) < (:at, :seq)
      ORDER BY m.created_at DESC, m.seq DESC LIMIT :limit`;
    this.s = { byBlob: db.prepare(byBlob), byMetadata: db.prepare(byMetadata) };
  }

  byBlob(sha256: Sha256, namespaces: '*' | readonly string[], limit: number, after?: string): VersionPage {
    const [ns, pkg, version] =
      after === undefined ? ['', '', ''] : (parsePosition(after, [isString, isString, isString]) as string[]);
    const rows = this.s.byBlob.all({
      sha: sha256,
      all: namespaces === '*' ? 1 : 0,
      namespaces: JSON.stringify(namespaces === '*' ? [] : namespaces),
      ns,
      pkg,
      version,
      limit: limit + 1,
    }) as Row[];
    return this.page(rows, limit, (r) => [r.namespace, r.package, r.version]);
  }

  byMetadata(namespace: string, key: string, value: string, limit: number, after?: string): VersionPage {
    // '~' sorts after every ISO time: the first page starts above the newest commit.
    const [at, seq] =
      after === undefined
        ? ['~', 0]
        : (parsePosition(after, [isString, Number.isSafeInteger]) as [string, number]);
    const rows = this.s.byMetadata.all({ namespace, key, value, at, seq, limit: limit + 1 }) as Row[];
    return this.page(rows, limit, (r) => [r.created_at, r.seq]);
  }

  private page(rows: readonly Row[], limit: number, position: (row: Row) => unknown[]): VersionPage {
    const shown = rows.slice(0, limit);
    const last = shown.at(-1);
    return {
      items: shown.map(this.read),
      ...(rows.length > limit && last ? { next: JSON.stringify(position(last)) } : {}),
    };
  }
}
