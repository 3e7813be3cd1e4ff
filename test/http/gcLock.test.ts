import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, publish } from '../support/client.ts';
import { content } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const HOUR = 3600;
const VERSIONS = 21;

describeForEachBackend('one GC run at a time', (kind) => {
  let s: TestServer;
  const clock = new TestClock();
  const run = () => call(s.url, 'POST', '/v1/gc/run', {});

  beforeAll(async () => {
    s = await startTestServer(kind, { clock });
    const policy = { retention: { keepLast: 1, maxAgeDays: 1, graceHours: 1 } };
    expect((await call(s.url, 'PUT', '/v1/namespaces/churn/policy', policy)).status).toBe(200);
    for (let i = 0; i < VERSIONS; i++) {
      const files = { 'a.bin': content(`churn-${i}`, 1024) };
      expect(
        (await publish(s.url, { namespace: 'churn', package: 'p', version: `${i}`, files })).status,
      ).toBe(200);
    }
    await s.whenIdle();
    // Everything but the newest version past retention, then past its grace: only blobs remain to delete.
    clock.advance(2 * 24 * HOUR);
    const first = await run();
    expect(first.body, JSON.stringify(first.body)).toMatchObject({ tombstoned: VERSIONS - 1 });
    clock.advance(2 * HOUR);
    expect((await run()).body).toMatchObject({ deleted: { versions: VERSIONS - 1 } });
    clock.advance(25 * HOUR);
  });
  afterAll(async () => s?.close());

  it('answers 409 gcRunning to runs started while one runs, and the counts add up to what was deleted (defect: concurrent runs over-counted)', async () => {
    const before = (await s.storedBlobs()).length;
    const answers = await Promise.all([run(), run(), run(), run()]);
    for (const a of answers) {
      if (a.status === 200) continue;
      expect(a.status).toBe(409);
      expect(a.body.error).toMatchObject({ code: 'Conflict', details: { reason: 'gcRunning' } });
    }
    const reported = answers
      .filter((a) => a.status === 200)
      .reduce((sum, a) => sum + (a.body.deleted.blobs as number), 0);
    const after = (await s.storedBlobs()).length;
    expect(before - after).toBe(VERSIONS - 1);
    expect(reported).toBe(VERSIONS - 1);
    expect((await run()).body).toMatchObject({ deleted: { blobs: 0 } });
  });
});
