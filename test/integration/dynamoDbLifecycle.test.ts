import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { blobKeyOf } from '../../functions/adapters/aws/s3BlobStore.ts';
import { runGarbageCollection } from '../../functions/core/gc.ts';
import { putNamespacePolicy } from '../../functions/core/policies.ts';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { commitUpload, createUpload } from '../../functions/core/uploads.ts';
import type { UploadSession } from '../../functions/ports.ts';
import { admin } from '../support/coreHarness.ts';
import { audit, content, session, sha256, versionOf } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { coreOn, freshResources, indexOn, intercept, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const HOUR = 3_600_000;
const later = (ms: number) => new Date(Date.now() + ms);

async function setup() {
  const clients = motoClients();
  const resources = await freshResources(clients);
  return { clients, resources, index: indexOn(clients, resources) };
}

async function commit(index: DynamoDbIndex, s: UploadSession, availableBlobs: string[] = []) {
  const stored = await index.getSession(s.uploadId);
  const now = new Date();
  await index.commitSession(
    {
      uploadId: s.uploadId,
      sessionRevision: stored!.revision,
      now,
      version: versionOf(s, now),
      availableBlobs,
    },
    audit('commit'),
  );
}

async function committed(index: DynamoDbIndex, overrides: Partial<UploadSession> = {}) {
  const s = session(overrides);
  await index.createSession(s, audit());
  await commit(index, s);
  return s;
}

const ref = (s: UploadSession) => ({ namespace: s.namespace, package: s.package, version: s.version });

/** A blob verified by a scan of `s` and referenced by nothing: available, refcount 0. */
async function verifiedUnreferenced(index: DynamoDbIndex, s: UploadSession) {
  await index.createSession(s, audit());
  const f = s.files[0]!;
  await index.recordScan({
    uploadId: s.uploadId,
    fileIndex: 0,
    sha256: f.sha256,
    size: f.size,
    verdict: 'verified',
    report: { status: 'clean', findings: [] },
    at: new Date(),
  });
  return f.sha256;
}

describe('DynamoDbIndex lifecycle', () => {
  it('tombstones a version once its only lease is released, before that lease would have expired', async () => {
    const { index } = await setup();
    const s = await committed(index);
    const now = new Date();
    const lease = {
      leaseId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      ...ref(s),
      holder: 'deploy',
      createdAt: now.toISOString(),
      createdBy: 't',
      expiresAt: later(HOUR).toISOString(),
    };
    await index.acquireLease(lease, audit());
    expect(await index.tombstoneVersion(ref(s), 'test', now, audit())).toBe(false);

    await index.releaseLease(lease.leaseId, audit());

    expect(await index.tombstoneVersion(ref(s), 'test', now, audit())).toBe(true);
  });

  it('serialises five concurrent promotions to one stage into one history, leaving only the last one protected', async () => {
    const { index } = await setup();
    const versions = [];
    for (let i = 0; i < 5; i++) versions.push(await committed(index, { version: `${i}` }));

    await Promise.all(
      versions.map((v) =>
        index.promote({ ...ref(v), stage: 'prod', now: new Date(), by: 't', immutable: false }, audit()),
      ),
    );

    const view = (await index.getStage('ns', 'pkg', 'prod', 10))!;
    expect(view.history).toHaveLength(5);
    expect(view.history.map((h) => h.previousVersion)).toEqual([
      ...view.history.slice(1).map((h) => h.version),
      null,
    ]);
    for (const v of versions) {
      const tombstoned = await index.tombstoneVersion(ref(v), 'test', new Date(), audit());
      expect(tombstoned).toBe(v.version !== view.version);
    }
  });

  it('holds a verified blob until its session expires, and an exists file holds it until its own session does', async () => {
    const { index } = await setup();
    const first = session({ expiresAt: later(HOUR).toISOString() });
    const sha = await verifiedUnreferenced(index, first);
    expect(await index.listDeletableBlobs(new Date(), 10)).toEqual([]);
    expect(await index.listDeletableBlobs(later(HOUR + 1000), 10)).toEqual([sha]);

    const reuse = session({
      expiresAt: later(2 * HOUR).toISOString(),
      files: [{ ...first.files[0]!, action: 'exists', stagingKey: undefined }],
    });
    await index.createSession(reuse, audit());

    expect(await index.listDeletableBlobs(later(HOUR + 1000), 10)).toEqual([]);
    expect(await index.listDeletableBlobs(later(2 * HOUR + 1000), 10)).toEqual([sha]);
  });

  it('lists deletable blobs from every shard, oldest unreferenced first', async () => {
    const { index } = await setup();
    const shas = Array.from({ length: 6 }, (_, i) => sha256(content(`shard-${i}`)));
    for (const [i, sha] of shas.entries()) await index.pinBlob(sha, 1, new Date(Date.UTC(2020, 0, 1 + i)));

    expect(await index.listDeletableBlobs(new Date(), 100)).toEqual(shas);
    expect(await index.listDeletableBlobs(new Date(Date.UTC(2020, 0, 2)), 100)).toEqual(shas.slice(0, 2));
    expect(await index.markBlobsDeleting(shas.slice(0, 3), new Date())).toEqual(shas.slice(0, 3));
    expect(await index.listDeletableBlobs(new Date(), 100)).toEqual(shas.slice(3));
  });

  it('refuses a commit relying on a blob GC marked for deletion, with blobGone and the blob', async () => {
    const { index } = await setup();
    const sha = await verifiedUnreferenced(index, session({ expiresAt: later(-HOUR).toISOString() }));
    const s = session({ files: [{ ...session().files[0]!, sha256: sha, action: 'exists' }] });
    await index.createSession(s, audit());
    expect(await index.markBlobsDeleting([sha], later(HOUR))).toEqual([sha]);

    await expect(commit(index, s, [sha])).rejects.toMatchObject({
      code: 'Conflict',
      details: { reason: 'blobGone', blobs: [sha] },
    });
    expect(await index.getVersion(s.namespace, s.package, s.version)).toBeNull();
  });

  it('deletes a version whose blob a racing commit references meanwhile, keeping that reference', async () => {
    const { clients, resources, index } = await setup();
    const old = await committed(index, { version: '1' });
    await index.tombstoneVersion(ref(old), 'test', new Date(), audit());
    const publisher = indexOn(motoClients(), resources);
    const racer = session({ version: '2', files: old.files });
    await publisher.createSession(racer, audit());
    intercept(clients.dynamodb, 'TransactWriteItemsCommand', async (send, call) => {
      if (call === 1) await commit(publisher, racer);
      return send();
    });

    expect(await index.deleteVersion(ref(old), later(HOUR), new Date(), audit())).toBe(true);

    const sha = old.files[0]!.sha256;
    expect((await index.getBlobs([sha])).get(sha)).toMatchObject({ refcount: 1 });
    expect(await index.listDeletableBlobs(later(HOUR), 10)).toEqual([]);
  });

  it('pages the audit log of every namespace oldest first, from a start time', async () => {
    const { index } = await setup();
    const policy = {
      enforceOrder: false,
      immutableStages: [],
      retention: { keepLast: 1, maxAgeDays: 1, keepPromotedPerStage: 1, graceHours: 1 },
    };
    for (const [ns, day] of [
      ['b', 2],
      ['a', 1],
      ['c', 3],
      ['a', 4],
    ] as const) {
      const at = new Date(Date.UTC(2026, 0, day)).toISOString();
      await index.putPolicy(ns, policy, { ...audit(`put-${ns}-${day}`), namespace: ns, at });
    }

    const first = await index.listAudit({ since: '2026-01-01' }, 2);
    const rest = await index.listAudit({ since: '2026-01-01' }, 10, first.next);

    expect([...first.items, ...rest.items].map((e) => e.action)).toEqual([
      'put-a-1',
      'put-b-2',
      'put-c-3',
      'put-a-4',
    ]);
    expect(rest.next).toBeUndefined();
    expect((await index.listAudit({ namespace: 'a', since: '2026-01-02' }, 10)).items).toHaveLength(1);
  });

  it('lists packages after the position a resumed GC run hands back', async () => {
    const { index } = await setup();
    for (const pkg of ['p1', 'p2', 'p3']) await committed(index, { package: pkg, version: '1' });

    const page = await index.listPackages(10, JSON.stringify(['ns', 'p1']));

    expect(page.items.map((p) => p.package)).toEqual(['p2', 'p3']);
  });

  it('lets GC tombstone, delete and finally remove the bytes of an old version, auditing each step', async () => {
    const clients = motoClients();
    const resources = await freshResources(clients);
    const clock = new TestClock();
    const deps = { ...coreOn(clients, resources), clock };
    await putNamespacePolicy(deps, admin, 'gc', {
      retention: { keepLast: 0, maxAgeDays: 0, keepPromotedPerStage: 0, graceHours: 1 },
    });
    const data = content('gc', 100);
    const created = await createUpload(deps, admin, {
      namespace: 'gc',
      package: 'app',
      version: '1',
      metadata: {},
      files: [{ name: 'a', size: data.length, sha256: sha256(data), mediaType: 'application/octet-stream' }],
    });
    const upload = created.files[0]!.upload!;
    await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: data });
    await commitUpload(deps, admin, { uploadId: created.uploadId });
    await scanStagedObject(deps, `staging/${created.uploadId}/0`);
    const run = async (hours: number) => {
      clock.advance(hours * 3600);
      return runGarbageCollection(deps, admin, { maxActions: 100 });
    };

    expect((await run(2)).tombstoned).toBe(1);
    expect((await run(2)).deleted.versions).toBe(1);
    expect((await run(25)).deleted.blobs).toBe(1);

    const head = clients.s3.send(
      new HeadObjectCommand({ Bucket: resources.bucket, Key: blobKeyOf(sha256(data)) }),
    );
    await expect(head).rejects.toMatchObject({ name: 'NotFound' });
    const actions = (await deps.index.listAudit({}, 100)).items.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['gc.tombstoneVersion', 'gc.deleteVersion', 'gc.deleteBlob']),
    );
    expect((await deps.index.getBlobs([sha256(data)])).size).toBe(0);
  });
});
