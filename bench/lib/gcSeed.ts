import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import { SqliteIndex } from '../../functions/adapters/embedded/sqliteIndex.ts';
import { newId } from '../../functions/core/ids.ts';
import type { AuditEvent } from '../../functions/core/model.ts';

const DAY = 86_400_000;

const audit = (action: string, at: Date): AuditEvent => ({
  at: at.toISOString(),
  actor: 'bench-seed',
  action,
  namespace: 'gc',
  target: 'seed',
  requestId: 'bench-seed',
});

/** A 1 KiB blob written straight into the embedded CAS layout, as the scan worker leaves it. */
async function writeBlob(
  dataDir: string,
  i: number,
  label: string,
): Promise<{ sha256: string; size: number }> {
  const data = Buffer.alloc(1024, `${label}-${i}-`);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const dir = join(dataDir, 'blobs/sha256', sha256.slice(0, 2));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, sha256), data);
  return { sha256, size: data.length };
}

/**
 * Seeds an embedded data dir with `count` committed versions spread over `packages` packages, all
 * committed 60 days ago, each with its own verified blob: what a busy store looks like when GC's
 * retention has most of it to consider. Goes through the index's own commit transaction.
 */
export async function seedOldVersions(dataDir: string, count: number, packages: number): Promise<void> {
  const db = openDatabase(join(dataDir, 'index.sqlite'));
  const index = new SqliteIndex(db);
  const then = new Date(Date.now() - 60 * DAY);
  try {
    for (let i = 0; i < count; i++) {
      const blob = await writeBlob(dataDir, i, 'gc-version');
      const uploadId = newId(then);
      const session = {
        uploadId,
        namespace: 'gc',
        package: `pkg-${i % packages}`,
        version: `1.0.${Math.floor(i / packages)}`,
        state: 'open' as const,
        createdAt: then.toISOString(),
        expiresAt: new Date(then.getTime() + 3_600_000).toISOString(),
        createdBy: 'bench-seed',
        metadata: {},
        files: [{ name: 'a.bin', ...blob, mediaType: 'application/octet-stream', action: 'upload' as const }],
      };
      await index.createSession(session, audit('upload.create', then));
      await index.commitSession(
        {
          uploadId,
          sessionRevision: 0,
          now: then,
          availableBlobs: [],
          version: {
            ...session,
            state: 'live',
            uploadId,
            files: session.files.map(({ action: _a, ...f }) => f),
          },
        },
        audit('upload.commit', then),
      );
    }
    // What the scan worker records once each blob is verified.
    db.prepare("UPDATE blobs SET state = 'available'").run();
  } finally {
    db.close();
  }
}

/**
 * Seeds `count` blobs nothing references any more, unreferenced for two days (past any grace), with
 * their bytes in CAS: the state GC's last phase deletes.
 */
export async function seedUnreferencedBlobs(dataDir: string, count: number): Promise<void> {
  const db = openDatabase(join(dataDir, 'index.sqlite'));
  const index = new SqliteIndex(db);
  const since = new Date(Date.now() - 2 * DAY);
  try {
    for (let i = 0; i < count; i++) {
      const blob = await writeBlob(dataDir, i, 'gc-orphan');
      await index.pinBlob(blob.sha256, blob.size, since);
    }
    db.prepare("UPDATE blobs SET state = 'available'").run();
  } finally {
    db.close();
  }
}
