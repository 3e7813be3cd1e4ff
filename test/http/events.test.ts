import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, versionPromotedEvent } from '../../functions/core/events.ts';
import { acquireLease } from '../../functions/core/leases.ts';
import { promoteVersion } from '../../functions/core/stages.ts';
import { ADMIN_PRINCIPAL } from '../../functions/local/auth.ts';
import { call, createUpload, publish, settled, uploadAll } from '../support/client.ts';
import { type EmbeddedServer, SCOPED_TOKENS, startEmbeddedServer } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { hasValidSignature, startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.ts';

const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

describe('events to webhooks (local server)', () => {
  let s: EmbeddedServer;
  let flaky: WebhookReceiver;
  let broken: WebhookReceiver;
  const flakySecret = secret();
  const v = (version: string) => `/v1/packages/ev/svc/versions/${version}`;

  beforeAll(async () => {
    s = await startEmbeddedServer({ webhooks: { baseDelayMs: 10, maxAttempts: 4 } });
    flaky = await startWebhookReceiver([500, 503, 502]);
    broken = await startWebhookReceiver(Array.from({ length: 8 }, () => 500));
  });
  afterAll(async () => {
    await s?.close();
    await flaky?.close();
    await broken?.close();
  });

  it('lets a namespace admin set and read its webhooks, never showing a secret', async () => {
    const body = {
      webhooks: [
        { url: flaky.url, secret: flakySecret },
        { url: broken.url, secret: secret(), types: [EVENT_TYPES.published] },
      ],
    };
    expect(
      (await call(s.url, 'PUT', '/v1/namespaces/ev/webhooks', body, SCOPED_TOKENS.alphaAdmin)).status,
    ).toBe(403);
    const put = await call(s.url, 'PUT', '/v1/namespaces/ev/webhooks', body);
    expect(put.status).toBe(200);
    const listed = await call(s.url, 'GET', '/v1/namespaces/ev/webhooks');
    expect(listed.body.webhooks.map((w: { url: string }) => w.url)).toEqual([flaky.url, broken.url]);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    expect(JSON.stringify(put.body)).not.toContain('whsec_');
  });

  it('refuses a bad webhook with 400 and changes nothing', async () => {
    for (const bad of [
      { url: 'file:///etc/passwd', secret: secret() },
      { url: flaky.url, secret: 'short' },
      { url: flaky.url, secret: secret(), types: ['dev.arca.nothing'] },
    ]) {
      const res = await call(s.url, 'PUT', '/v1/namespaces/ev/webhooks', { webhooks: [bad] });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('InvalidRequest');
    }
    expect((await call(s.url, 'GET', '/v1/namespaces/ev/webhooks')).body.webhooks).toHaveLength(2);
  });

  it('delivers each change once, in order, signed, after an endpoint failed 3 times', async () => {
    const files = { 'a.bin': content('ev1') };
    const created = await createUpload(s.url, { namespace: 'ev', package: 'svc', version: '1', files });
    await uploadAll(created, files);
    const uploadId = created.body.uploadId;
    expect((await call(s.url, 'POST', `/v1/uploads/${uploadId}/commit`)).status).toBe(200);
    expect((await settled(s.url, v('1'))).body.state).toBe('available');
    await s.backend.scanQueue.whenIdle();
    // The commit retried (a client that lost the answer): the same change, no second event.
    expect((await call(s.url, 'POST', `/v1/uploads/${uploadId}/commit`)).status).toBe(200);
    expect((await call(s.url, 'POST', `${v('1')}/promote`, { stage: 'prod' })).status).toBe(200);
    const lease = await call(s.url, 'POST', '/v1/leases', {
      namespace: 'ev',
      package: 'svc',
      version: '1',
      holder: 'deploy',
      ttlSeconds: 600,
    });
    expect(lease.status).toBe(201);
    expect((await call(s.url, 'DELETE', `/v1/leases/${lease.body.leaseId}`)).status).toBe(204);
    expect(
      (await publish(s.url, { namespace: 'ev', package: 'svc', version: '2', files: { 'x.com': EICAR } }))
        .status,
    ).toBe(200);
    expect((await settled(s.url, v('2'))).body.state).toBe('quarantined');

    const expected = [
      [EVENT_TYPES.published, 'ev/svc@1'],
      [EVENT_TYPES.available, 'ev/svc@1'],
      [EVENT_TYPES.promoted, 'ev/svc@1'],
      [EVENT_TYPES.leaseAcquired, 'ev/svc@1'],
      [EVENT_TYPES.leaseReleased, 'ev/svc@1'],
      [EVENT_TYPES.published, 'ev/svc@2'],
      [EVENT_TYPES.quarantined, 'ev/svc@2'],
    ];
    const accepted = await flaky.waitForAccepted(expected.length);
    expect(accepted.map((e) => [e.type, e.subject])).toEqual(expected);
    expect(new Set(accepted.map((e) => e.id)).size).toBe(expected.length);
    expect(accepted[0]).toMatchObject({
      specversion: '1.0',
      source: 'arca',
      datacontenttype: 'application/json',
      arcanamespace: 'ev',
      data: { namespace: 'ev', package: 'svc', version: '1', uploadId },
    });
    expect(accepted[2].data).toMatchObject({ stage: 'prod', previousVersion: null, by: 'admin' });
    // Three failures, then the first event once; every later event at its first attempt.
    expect(flaky.requests.map((r) => r.status)).toEqual([500, 503, 502, ...expected.map(() => 204)]);
    expect(new Set(flaky.requests.slice(0, 4).map((r) => r.headers['webhook-id']))).toEqual(
      new Set([accepted[0].id]),
    );
    for (const r of flaky.requests) expect(hasValidSignature(r, flakySecret)).toBe(true);
    expect(hasValidSignature(flaky.requests[3]!, secret())).toBe(false);
    // Nothing arrives after the last expected event (no duplicate from the retried commit).
    await s.backend.scanQueue.whenIdle();
    expect(flaky.accepted()).toHaveLength(expected.length);
  });

  it('shows a delivery that failed for good, with what the endpoint answered', async () => {
    let failed: any[] = [];
    for (let i = 0; i < 500 && failed.length < 2; i++) {
      failed = (await call(s.url, 'GET', '/v1/namespaces/ev/webhooks/deliveries?state=failed')).body.items;
      if (failed.length < 2) await new Promise((r) => setTimeout(r, 20));
    }
    // The broken endpoint wants only `published`: two events, each tried 4 times, all answered 500.
    expect(failed.map((d) => [d.type, d.subject, d.attempts, d.lastStatus])).toEqual([
      [EVENT_TYPES.published, 'ev/svc@2', 4, 500],
      [EVENT_TYPES.published, 'ev/svc@1', 4, 500],
    ]);
    expect(failed[0].lastError).toBe('the endpoint answered 500');
    const delivered = (await call(s.url, 'GET', '/v1/namespaces/ev/webhooks/deliveries?state=delivered')).body
      .items;
    expect(delivered.at(-1)).toMatchObject({ type: EVENT_TYPES.published, attempts: 4, lastStatus: 204 });
  });

  it('records a GC run in the outbox once, delivering it to no namespace', async () => {
    const before = s.backend.outbox.eventsAfter(0, 1000).length;
    expect((await call(s.url, 'POST', '/v1/gc/run', {})).status).toBe(200);
    const after = s.backend.outbox.eventsAfter(0, 1000);
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({ type: EVENT_TYPES.gcFinished, subject: 'gc', arcanamespace: '*' });
  });
});

describe('the event of a version GC deletes (local server)', () => {
  const clock = new TestClock();
  let s: EmbeddedServer;
  let hook: WebhookReceiver;
  const hookSecret = secret();

  beforeAll(async () => {
    s = await startEmbeddedServer({ clock, webhooks: { baseDelayMs: 10 } });
    hook = await startWebhookReceiver();
  });
  afterAll(async () => {
    await s?.close();
    await hook?.close();
  });

  it('is delivered once, when the grace is over, however often GC runs', async () => {
    const webhooks = [{ url: hook.url, secret: hookSecret, types: [EVENT_TYPES.deleted] }];
    expect((await call(s.url, 'PUT', '/v1/namespaces/old/webhooks', { webhooks })).status).toBe(200);
    const policy = { retention: { keepLast: 1, maxAgeDays: 1, graceHours: 1 } };
    expect((await call(s.url, 'PUT', '/v1/namespaces/old/policy', policy)).status).toBe(200);
    for (const version of ['1', '2']) {
      await publish(s.url, {
        namespace: 'old',
        package: 'svc',
        version,
        files: { 'f.bin': content(`old-${version}`) },
      });
      await settled(s.url, `/v1/packages/old/svc/versions/${version}`);
    }
    clock.advance(2 * 86_400);
    expect((await call(s.url, 'POST', '/v1/gc/run', {})).body.tombstoned).toBe(1);
    clock.advance(2 * 3600);
    expect((await call(s.url, 'POST', '/v1/gc/run', {})).body.deleted.versions).toBe(1);
    expect((await call(s.url, 'POST', '/v1/gc/run', {})).body.deleted.versions).toBe(0);

    const [deleted] = await hook.waitForAccepted(1);
    expect(deleted).toMatchObject({
      type: EVENT_TYPES.deleted,
      subject: 'old/svc@1',
      arcanamespace: 'old',
      data: { namespace: 'old', package: 'svc', version: '1' },
    });
    expect(deleted.data.reason).toMatch(/grace of 1 h over/);
    expect(hasValidSignature(hook.requests[0]!, hookSecret)).toBe(true);
    const outbox = s.backend.outbox.eventsAfter(0, 1000).filter((e) => e.type === EVENT_TYPES.deleted);
    expect(outbox).toHaveLength(1);
    expect(hook.requests).toHaveLength(1);
  });
});

describe('events of changes a killed process never emitted (local server)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arca-relay-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('are emitted from the audit log at the next start, each once, with the ids the live ones have', async () => {
    const first = await startEmbeddedServer({ dataDir });
    await publish(first.url, {
      namespace: 'crash',
      package: 'svc',
      version: '1',
      files: { 'f.bin': content('crash') },
    });
    await settled(first.url, '/v1/packages/crash/svc/versions/1');
    await first.backend.scanQueue.whenIdle();
    // Stored and audited, then the process "dies" before emitting: the same use cases without events.
    const silent = { ...first.backend.deps, events: undefined };
    const caller = { principal: ADMIN_PRINCIPAL, requestId: 'req-lost' };
    const ref = { namespace: 'crash', package: 'svc', version: '1' };
    await promoteVersion(silent, caller, { ...ref, stage: 'prod' });
    const lease = await acquireLease(silent, caller, { ...ref, holder: 'deploy', ttlSeconds: 600 });
    const before = first.backend.outbox.eventsAfter(0, 1000);
    expect(before.map((e) => e.type)).toEqual([EVENT_TYPES.published, EVENT_TYPES.available]);
    await first.close();

    const second = await startEmbeddedServer({ dataDir });
    try {
      const after = second.backend.outbox.eventsAfter(0, 1000);
      expect(after.map((e) => e.type)).toEqual([
        EVENT_TYPES.published,
        EVENT_TYPES.available,
        EVENT_TYPES.promoted,
        EVENT_TYPES.leaseAcquired,
      ]);
      expect(after[2]).toMatchObject({
        subject: 'crash/svc@1',
        data: { stage: 'prod', previousVersion: null, by: 'admin' },
      });
      expect(after[3]!.data).toMatchObject({ leaseId: lease.leaseId, holder: 'deploy' });
      // What the live emit would have sent: the same id, so a late live emit would be dropped.
      const promoted = versionPromotedEvent({
        ref,
        stage: 'prod',
        previousVersion: null,
        by: 'admin',
        requestId: 'req-lost',
        at: after[2]!.time,
      });
      expect(after[2]!.id).toBe(promoted.id);
    } finally {
      await second.close();
    }
    // A third start relays nothing again.
    const third = await startEmbeddedServer({ dataDir });
    try {
      expect(third.backend.outbox.eventsAfter(0, 1000)).toHaveLength(4);
    } finally {
      await third.close();
    }
  });
});
