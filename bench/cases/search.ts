import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import { SqliteIndex } from '../../functions/adapters/embedded/sqliteIndex.ts';
import { newId } from '../../functions/core/ids.ts';
import type { AuditEvent } from '../../functions/core/model.ts';
import { startArcaServer } from '../lib/arcaServer.ts';
import type { BenchContext } from '../lib/context.ts';
import { httpRequest } from '../lib/http.ts';
import { median } from '../lib/stats.ts';

const CASE = '12 search';
/** Lookups measured per form, one after another (latency, not throughput). */
const SAMPLES = 200;
/** Distinct metadata values: each matches `count / COMMITS` versions, a page of 20 answered. */
const COMMITS = 5000;

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const audit = (at: Date): AuditEvent => ({
  at: at.toISOString(),
  actor: 'bench-seed',
  action: 'upload.commit',
  namespace: 'search',
  target: 'seed',
  requestId: 'bench-seed',
});

/**
 * `count` versions over 100 packages of one namespace, each with two files (its own blob and one of
 * 1,000 shared ones) and a `commit` metadata value, through the index's own commit transaction (the
 * index only: search never reads bytes). Publishing them through the API would take minutes and
 * measure publishing.
 */
async function seed(dataDir: string, count: number): Promise<void> {
  const db = openDatabase(join(dataDir, 'index.sqlite'));
  const index = new SqliteIndex(db);
  const at = new Date(Date.now() - 86_400_000);
  try {
    for (let i = 0; i < count; i++) {
      const uploadId = newId(at);
      const files = [
        { name: 'dist/app.js', size: 1024, sha256: hex(`own-${i}`), mediaType: 'application/javascript' },
        {
          name: 'dist/vendor.js',
          size: 1024,
          sha256: hex(`shared-${i % 1000}`),
          mediaType: 'application/javascript',
        },
      ];
      const session = {
        uploadId,
        namespace: 'search',
        package: `pkg-${i % 100}`,
        version: `1.0.${Math.floor(i / 100)}`,
        state: 'open' as const,
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + 3_600_000).toISOString(),
        createdBy: 'bench-seed',
        metadata: { commit: hex(`commit-${i % COMMITS}`).slice(0, 12), pipeline: 'release' },
        files: files.map((f) => ({ ...f, action: 'upload' as const })),
      };
      await index.createSession(session, audit(at));
      await index.commitSession(
        {
          uploadId,
          sessionRevision: 0,
          now: at,
          availableBlobs: [],
          version: { ...session, state: 'live', files },
        },
        audit(at),
      );
    }
    db.prepare("UPDATE blobs SET state = 'available'").run();
  } finally {
    db.close();
  }
}

/** Case 9: GET /v1/search p50 by sha256 and by metadata over `count` seeded versions (embedded). */
export async function searchCase(ctx: BenchContext): Promise<void> {
  const count = ctx.scale.gcCount;
  const dataDir = join(ctx.tmp, 'search');
  ctx.progress(`search: seeding ${count} versions`);
  await seed(dataDir, count);
  const server = await startArcaServer({
    repoRoot: ctx.repoRoot,
    dataDir,
    env: { ARCA_GC_INTERVAL_SECONDS: '0' },
  });
  const auth = { authorization: `Bearer ${server.token}` };
  const timed = async (path: string) => {
    const started = performance.now();
    const res = await httpRequest(`${server.url}${path}`, { method: 'GET', headers: auth });
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    const items = (JSON.parse(res.body.toString('utf8')) as { items: unknown[] }).items.length;
    if (items === 0) throw new Error(`GET ${path} found nothing`);
    return ms;
  };
  try {
    const bySha: number[] = [];
    const byMeta: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const v = (i * 7919) % count;
      bySha.push(await timed(`/v1/search?sha256=${hex(i % 2 ? `own-${v}` : `shared-${v % 1000}`)}`));
      byMeta.push(
        await timed(`/v1/search?namespace=search&meta.commit=${hex(`commit-${v % COMMITS}`).slice(0, 12)}`),
      );
    }
    const n = count.toLocaleString('en-US');
    const target = { op: '≤' as const, value: 5, text: count === 100_000 ? '≤ 5 ms' : '≤ 5 ms at 100,000' };
    ctx.add({
      case: CASE,
      name: `by sha256, p50 over ${n} versions`,
      value: median(bySha),
      unit: 'ms',
      better: 'lower',
      target,
    });
    ctx.add({
      case: CASE,
      name: `by metadata, p50 over ${n} versions`,
      value: median(byMeta),
      unit: 'ms',
      better: 'lower',
      target,
    });
    ctx.note(
      `search: each answer is a page of up to 20 described versions (a blob shared by ${count / 1000} versions, a commit by ${count / COMMITS})`,
    );
  } finally {
    await server.stop();
  }
}
