import type Database from 'better-sqlite3';
import type { StoreStats } from '../prometheus/prometheusMetrics.ts';

/**
 * The store's gauges from the SQLite index, for `/metrics`: whole-table counts, fine for a local
 * store scraped every few seconds (each is one indexed or sequential read of a local file).
 */
export function sqliteStoreStats(db: Database.Database): () => StoreStats {
  const blobs = db.prepare(
    'SELECT state, COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM blobs GROUP BY state ORDER BY state',
  );
  // A version is available when every file has an available blob and none was rejected.
  const versions = db.prepare(`
    SELECT COUNT(*) AS live,
      COALESCE(SUM(NOT EXISTS (
        SELECT 1 FROM files f LEFT JOIN blobs b ON b.sha256 = f.sha256
        WHERE f.namespace = v.namespace AND f.package = v.package AND f.version = v.version
          AND (b.state IS NULL OR b.state <> 'available' OR f.rejection IS NOT NULL)
      )), 0) AS available,
      COALESCE(SUM(EXISTS (
        SELECT 1 FROM attestations a
        WHERE a.namespace = v.namespace AND a.package = v.package AND a.version = v.version
          AND a.id = 'provenance'
      )), 0) AS signed
    FROM versions v WHERE v.state = 'live'`);
  const files = db.prepare(`
    SELECT COUNT(*) AS total,
      COALESCE(SUM(f.rejection IS NOT NULL OR b.state IN ('available', 'quarantined')), 0) AS scanned
    FROM files f
    JOIN versions v ON v.namespace = f.namespace AND v.package = f.package AND v.version = f.version
    LEFT JOIN blobs b ON b.sha256 = f.sha256
    WHERE v.state = 'live'`);
  return () => ({
    blobs: blobs.all() as StoreStats['blobs'],
    versions: versions.get() as StoreStats['versions'],
    files: files.get() as StoreStats['files'],
  });
}
