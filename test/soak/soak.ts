import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { call, createUpload, uploadAll } from '../support/client.ts';
import { type EmbeddedServer, startEmbeddedServer } from '../support/embedded.ts';
import { sha256 } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';

export interface SoakOptions {
  readonly gcCycles: number;
  readonly publishers: number;
  readonly hoursPerCycle: number;
  /**
   * Directory versions: path names (`dist/js/f1.bin`) and the first blob twice in one version
   * (`dist/copy/f0.bin`), so deletion drops two references of one blob at once.
   */
  readonly directories?: boolean;
}

export interface SoakReport {
  readonly gcCycles: number;
  readonly commits: number;
  readonly dedupedFiles: number;
  readonly retriedPublishes: number;
  readonly deleted: { versions: number; blobs: number; sessions: number };
  readonly downloads: number;
  readonly failedDownloads: number;
  readonly versionsWithMissingBlob: number;
}

const blobOf = (id: number) => Buffer.from(`soak blob ${id} `.repeat(64 + (id % 7)));

/**
 * Publishers commit versions that reuse a small pool of blobs while GC cycles run back to back and
 * the clock moves hours per cycle, so retention, version deletion and blob deletion all race the
 * publishers. Counts what must stay zero: committed versions with a missing blob, failed downloads.
 */
export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const clock = new TestClock();
  // A 1 h blob grace (24 h by default) so unreferenced blobs are deleted within a few cycles.
  const s = await startEmbeddedServer({ clock, config: { blobGraceHours: 1 } });
  let epoch = 0;
  const committed: string[] = [];
  const stats = { commits: 0, deduped: 0, retried: 0, downloads: 0, failedDownloads: 0, missing: 0 };
  const deleted = { versions: 0, blobs: 0, sessions: 0 };
  let stop = false;
  let n = 0;
  try {
    const policy = { retention: { keepLast: 2, maxAgeDays: 1, keepPromotedPerStage: 1, graceHours: 1 } };
    await call(s.url, 'PUT', '/v1/namespaces/soak/policy', policy);
    const publisher = async (id: number) => {
      while (!stop) {
        const version = `${id}.${++n}`;
        // One recent blob, and one from about when retention lets go of versions: the content GC is
        // most likely deleting right now. Both are shared with other publishers.
        const pick = [...new Set([Math.max(0, epoch - (n % 2)), Math.max(0, epoch - 14 + (n % 5))])];
        const files = Object.fromEntries(
          o.directories
            ? [
                ...pick.map((b, i) => [`dist/${i === 0 ? '' : 'js/'}f${i}.bin`, blobOf(b)]),
                ['dist/copy/f0.bin', blobOf(pick[0]!)],
              ]
            : pick.map((b, i) => [`f${i}.bin`, blobOf(b)]),
        );
        const openedAt = clock.now().getTime();
        const created = await createUpload(s.url, {
          namespace: 'soak',
          package: `pkg${id % 3}`,
          version,
          files,
        });
        if (created.status !== 201)
          throw new Error(`create ${created.status} ${JSON.stringify(created.body)}`);
        stats.deduped += created.body.files.filter((f: { action: string }) => f.action === 'exists').length;
        // The clock jumps hours per GC cycle: a session it overtook expires (its URLs answer 403, its
        // commit 410, or 404 once GC expired it). That is a retry, never a loss; anything else throws.
        const overtaken = () => clock.now().getTime() - openedAt >= 3600_000;
        const uploaded = await uploadAll(created, files).then(
          () => true,
          (error) => {
            if (overtaken()) return false;
            throw error;
          },
        );
        const commit = uploaded
          ? await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`)
          : undefined;
        if (commit?.status === 200) {
          stats.commits++;
          committed.push(`pkg${id % 3}/versions/${version}`);
        } else if (!commit || commit.status === 409 || overtaken()) {
          stats.retried++; // GC won the race for a blob (409 blobGone), or the clock overtook the session
        } else {
          throw new Error(`commit ${commit.status} ${JSON.stringify(commit.body)}`);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    const running = Array.from({ length: o.publishers }, (_, i) => publisher(i));
    for (let cycle = 0; cycle < o.gcCycles; cycle++) {
      const report = (await call(s.url, 'POST', '/v1/gc/run', {})).body;
      deleted.versions += report.deleted.versions;
      deleted.blobs += report.deleted.blobs;
      deleted.sessions += report.deleted.sessions;
      // Let the publishers land a few commits between cycles, so every cycle races real traffic.
      const target = stats.commits + o.publishers;
      for (let waited = 0; stats.commits < target && waited < 200; waited++)
        await new Promise((r) => setTimeout(r, 10));
      clock.advance(o.hoursPerCycle * 3600);
      epoch++;
      await verify(s, committed.slice(-8), stats);
    }
    stop = true;
    await Promise.all(running);
    await s.backend.scanQueue.whenIdle();
    await verify(s, committed, stats, true);
    return {
      gcCycles: o.gcCycles,
      commits: stats.commits,
      dedupedFiles: stats.deduped,
      retriedPublishes: stats.retried,
      deleted,
      downloads: stats.downloads,
      failedDownloads: stats.failedDownloads,
      versionsWithMissingBlob: stats.missing,
    };
  } finally {
    stop = true;
    await s.close();
  }
}

/** Every version still in the index keeps its blobs; every available one downloads byte-exact. */
async function verify(
  s: EmbeddedServer,
  paths: readonly string[],
  stats: { downloads: number; failedDownloads: number; missing: number },
  settledScans = false,
) {
  for (const p of paths) {
    const v = await call(s.url, 'GET', `/v1/packages/soak/${p}`);
    if (v.status === 404) continue; // deleted by GC after its grace: allowed
    for (const f of v.body.files) {
      const stored = join(s.dataDir, 'blobs/sha256', f.sha256.slice(0, 2), f.sha256);
      if (f.state === 'available' && !existsSync(stored)) stats.missing++;
      // With every scan finished, a pending file can only mean a commit took a blob GC deleted.
      if (settledScans && f.state === 'pending') stats.missing++;
      if (v.body.state !== 'available') continue;
      const link = await call(s.url, 'GET', `/v1/packages/soak/${p}/files/${f.name}?redirect=false`);
      stats.downloads++;
      if (link.status !== 200) {
        // Tombstoned between the two reads is fine; anything else is a failed download.
        if (link.status !== 409 && link.status !== 404) stats.failedDownloads++;
        continue;
      }
      const got = await fetch(link.body.url);
      const bytes = Buffer.from(await got.arrayBuffer());
      if (got.status !== 200 || sha256(bytes) !== f.sha256) stats.failedDownloads++;
    }
  }
}
