import { setImmediate } from 'node:timers/promises';
import type Database from 'better-sqlite3';

/** Versions per seeded package: the newest 10 are kept by the default policy, the oldest is not. */
export const VERSIONS_PER_PACKAGE = 11;
/** Seeded packages whose oldest version is promoted to `prod`, and as many after them leased. */
export const PROTECTED_PACKAGES = 100;

export const seededPackage = (i: number) => `p${String(i).padStart(6, '0')}`;
export const seededSha = (i: number) => i.toString(16).padStart(64, '0');

/**
 * Seeds the embedded index with `count` committed versions directly in SQL (a commit per version
 * would take minutes at a million): packages of VERSIONS_PER_PACKAGE versions one minute apart,
 * committed at `then`, each with its own available blob. The oldest version of the first
 * PROTECTED_PACKAGES packages is promoted to prod, of the next PROTECTED_PACKAGES leased until
 * `leaseUntil`. Rows carry exactly what a commit writes (schema: `sqliteDatabase.ts`).
 */
export async function seedScaleVersions(
  db: Database.Database,
  count: number,
  then: Date,
  leaseUntil: Date,
): Promise<void> {
  // In chunks, with a turn of the event loop between them: a test worker must keep answering.
  for (let from = 0; from < count; from += SEED_CHUNK) {
    seedRows(db, from, Math.min(from + SEED_CHUNK, count), then);
    await setImmediate();
  }
  seedProtection(db, then, leaseUntil);
}

const SEED_CHUNK = 100_000;

function seedRows(db: Database.Database, from: number, to: number, then: Date): void {
  const seed = db.transaction(() => {
    const rows = `WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${to - 1})`;
    const pkg = `printf('p%06d', i / ${VERSIONS_PER_PACKAGE})`;
    const version = `printf('1.0.%d', i % ${VERSIONS_PER_PACKAGE})`;
    const at = `strftime('%Y-%m-%dT%H:%M:%fZ', @committed, printf('+%d minutes', i % ${VERSIONS_PER_PACKAGE}))`;
    db.prepare(
      `${rows} INSERT INTO versions (namespace, package, version, seq, state, created_at, created_by, upload_id, metadata)
       SELECT 'scale', ${pkg}, ${version}, i + 1, 'live', ${at}, 'seed', printf('seed-%d', i), '{}' FROM n`,
    ).run({ committed: then.toISOString() });
    db.prepare(
      `${rows} INSERT INTO files (namespace, package, version, name, position, sha256, size, media_type)
       SELECT 'scale', ${pkg}, ${version}, 'app.bin', 0, printf('%064x', i), 32, 'application/octet-stream' FROM n`,
    ).run();
    db.prepare(
      `${rows} INSERT INTO blobs (sha256, size, state, refcount, created_at)
       SELECT printf('%064x', i), 32, 'available', 1, @committed FROM n`,
    ).run({ committed: then.toISOString() });
  });
  seed();
}

function seedProtection(db: Database.Database, then: Date, leaseUntil: Date): void {
  const seed = db.transaction(() => {
    const oldest = (p: number) => ({ pkg: seededPackage(p), at: then.toISOString() });
    const promote = db.prepare(`INSERT INTO stages VALUES ('scale', @pkg, 'prod', '1.0.0', @at, 'seed')`);
    const history = db.prepare(
      `INSERT INTO promotions (namespace, package, stage, version, previous_version, promoted_at, promoted_by)
       VALUES ('scale', @pkg, 'prod', '1.0.0', NULL, @at, 'seed')`,
    );
    const lease = db.prepare(
      `INSERT INTO leases VALUES (@id, 'scale', @pkg, '1.0.0', 'deploy', @at, 'seed', @until)`,
    );
    for (let p = 0; p < PROTECTED_PACKAGES; p++) {
      promote.run(oldest(p));
      history.run(oldest(p));
      const leased = PROTECTED_PACKAGES + p;
      lease.run({ ...oldest(leased), id: `lease-${leased}`, until: leaseUntil.toISOString() });
    }
  });
  seed();
}
