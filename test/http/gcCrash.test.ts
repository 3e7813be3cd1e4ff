import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, freePort, startChildServer } from '../support/childServer.ts';
import { call, createUpload, publish, settled, uploadAll } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';

const ROUNDS = 20;
const POOL = 24;

// Embedded only, like crash.test.ts: kill -9 of `npm start` in the middle of a GC run.
describe('GC killed at random points (soak)', () => {
  let dataDir: string;
  let port: number;
  let server: ChildServer;
  const env = {
    ARCA_SESSION_TTL_SECONDS: '1',
    ARCA_BLOB_GRACE_HOURS: '0',
    ARCA_GC_INTERVAL_SECONDS: '0',
  };
  const pool = Array.from({ length: POOL }, (_, i) => content(`pool-${i}`, 2048));
  const files = (indexes: readonly number[]) =>
    Object.fromEntries(indexes.map((i) => [`f${i}.bin`, pool[i]!]));

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arca-gc-crash-'));
    port = await freePort();
    server = await startChildServer(dataDir, port, env);
  });
  afterAll(async () => {
    server.process.kill('SIGKILL');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Pool contents the versions published so far reference: GC keeps those. */
  const kept = new Set<number>();

  /** Uploads every pool content in sessions never committed: deletable once they expire, but the kept ones. */
  async function leaveDeletableBlobs(round: number): Promise<void> {
    await Promise.all(
      pool.map(async (data, i) => {
        const one = { 'x.bin': data };
        const created = await createUpload(server.url, {
          namespace: 'soak',
          version: `r${round}-${i}`,
          files: one,
        });
        await uploadAll(created, one);
      }),
    );
    for (let i = 0; i < 200; i++) {
      const plan = await call(server.url, 'POST', '/v1/gc/plan', {});
      if (plan.body.counts.deleteBlob >= POOL - kept.size) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    const plan = await call(server.url, 'POST', '/v1/gc/plan', {});
    throw new Error(
      `the abandoned uploads never became deletable: ${JSON.stringify(plan.body.counts)}, kept ${kept.size}, round ${round}`,
    );
  }

  it('publishes the same content again right after every kill, and at the end everything is available and byte-identical (defect: a crash during GC blocked re-publishing)', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await leaveDeletableBlobs(round);
      const running = fetch(`${server.url}/v1/gc/run`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
        body: '{}',
      }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
      server.process.kill('SIGKILL');
      await server.exited;
      await running;
      server = await startChildServer(dataDir, port, env);

      const some = [round % POOL, (round * 7 + 3) % POOL, (round * 11 + 5) % POOL];
      for (const i of some) kept.add(i);
      const again = await publish(server.url, { namespace: 'kept', version: `${round}`, files: files(some) });
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      const v = await settled(server.url, `/v1/packages/kept/app/versions/${round}`);
      expect(v.body.state).toBe('available');
    }

    const all = pool.map((_, i) => i);
    const final = await publish(server.url, { namespace: 'kept', version: 'all', files: files(all) });
    expect(final.status, JSON.stringify(final.body)).toBe(200);
    expect((await settled(server.url, '/v1/packages/kept/app/versions/all')).body.state).toBe('available');
    for (const i of all) {
      const link = await call(
        server.url,
        'GET',
        `/v1/packages/kept/app/versions/all/files/f${i}.bin?redirect=false`,
      );
      const bytes = Buffer.from(await (await fetch(link.body.url)).arrayBuffer());
      expect(sha256(bytes)).toBe(sha256(pool[i]!));
    }
  }, 300_000);
});
