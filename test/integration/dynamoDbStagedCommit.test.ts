import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import type { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { REFERENCE_BATCH } from '../../functions/adapters/aws/dynamoDbReferences.ts';
import type { UploadSession } from '../../functions/ports.ts';
import { audit, session, sha256, versionOf } from '../support/fixtures.ts';
import { freshResources, indexOn, intercept, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();
// moto takes seconds for each transaction on an item this size (DynamoDB takes milliseconds).
vi.setConfig({ testTimeout: 180_000 });

/**
 * A 1,000-file version on DynamoDB: more blob references than one transaction holds, committed in
 * reference batches and one visibility switch (dynamoDbStagedCommit.ts). A test "kills" the commit
 * by refusing one of its TransactWriteItems calls outright, as a process dying before it would.
 */

const FILES = 1000;
/** 1,000 files over 400 distinct blobs: 5 reference batches of ≤ 90, every blob shared by 2–3 files. */
const DISTINCT = 400;

/** Tests of what follows a commit use a smaller tree that still needs 3 reference batches (moto is slow). */
const SMALLER = { files: 250, distinct: 200 };

function directorySession(
  version: string,
  overrides: Partial<UploadSession> = {},
  size = { files: FILES, distinct: DISTINCT },
): UploadSession {
  const base = session({ version });
  const files = Array.from({ length: size.files }, (_, i) => {
    const blob = i % size.distinct;
    return {
      name: `dist/${i % 7}/${i % 3 === 0 ? 'deep/er/' : ''}file-${i}.js`,
      size: 100 + blob,
      sha256: sha256(`${version}-blob-${blob}`),
      mediaType: 'application/javascript',
      action: 'upload' as const,
      stagingKey: `staging/${base.uploadId}/${i}`,
    };
  });
  return { ...base, files, ...overrides };
}

async function setup() {
  const clients = motoClients();
  const resources = await freshResources(clients);
  return { clients, resources, index: indexOn(clients, resources) };
}

async function commit(index: DynamoDbIndex, s: UploadSession, now = new Date()) {
  const stored = await index.getSession(s.uploadId);
  await index.commitSession(
    {
      uploadId: s.uploadId,
      sessionRevision: stored!.revision,
      now,
      version: versionOf(s, now),
      availableBlobs: [],
    },
    audit('commit'),
  );
}

/** Each distinct blob's refcount, and how many files point at it. */
async function refcounts(index: DynamoDbIndex, s: UploadSession) {
  const expected = new Map<string, number>();
  for (const f of s.files) expected.set(f.sha256, (expected.get(f.sha256) ?? 0) + 1);
  const blobs = await index.getBlobs([...expected.keys()]);
  const actual = new Map([...expected.keys()].map((sha) => [sha, blobs.get(sha)?.refcount ?? 0]));
  return { expected, actual };
}

/** The upload ids the package's version file items (`VFILES#…`) are written under, one entry per item. */
async function versionFileItems({ clients, resources }: Awaited<ReturnType<typeof setup>>) {
  const res = await clients.dynamodb.send(
    new QueryCommand({
      TableName: resources.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': { S: 'PKG#ns/pkg' }, ':prefix': { S: 'VFILES#' } },
      ConsistentRead: true,
    }),
  );
  return (res.Items ?? []).map((item) => item.uploadId?.S);
}

/** Refuses the `nth` TransactWriteItems call from now on: the commit dies right before that write. */
function killAt(clients: ReturnType<typeof motoClients>, nth: number) {
  intercept(clients.dynamodb, 'TransactWriteItemsCommand', async (send, call) => {
    if (call === nth) throw Object.assign(new Error('killed'), { name: 'ProcessKilled' });
    return send();
  });
}

describe('a 1,000-file version on DynamoDB', () => {
  it('commits in reference batches and one switch: every file listed, every blob counted once per file', async () => {
    const { index } = await setup();
    const s = directorySession('1.0.0');
    await index.createSession(s, audit());

    await commit(index, s);

    const version = await index.getVersion('ns', 'pkg', '1.0.0');
    expect(version?.files.map((f) => f.name)).toEqual(s.files.map((f) => f.name));
    const { expected, actual } = await refcounts(index, s);
    expect(actual).toEqual(expected);
    expect(await index.referencedBlobs([s.files[0]!.sha256], ['ns'])).toEqual(new Set([s.files[0]!.sha256]));
    expect((await index.getSession(s.uploadId))?.state).toBe('committed');
  });

  it.each([3, 6])(
    'killed before its transaction #%i, shows nothing, keeps every blob it took, and a retry makes all of it visible',
    async (nth) => {
      const { clients, resources, index } = await setup();
      const s = directorySession('2.0.0');
      await index.createSession(s, audit());
      const dying = indexOn(clientsKilledAt(clients, nth), resources);

      await expect(commit(dying, s)).rejects.toThrow('killed');

      expect(await index.getVersion('ns', 'pkg', '2.0.0')).toBeNull();
      expect(await versionFileItems({ clients, resources, index })).toEqual([]);
      expect((await index.getSession(s.uploadId))?.state).toBe('open');
      const taken = (await refcounts(index, s)).actual;
      const held = [...taken].filter(([, n]) => n > 0).map(([sha]) => sha);
      expect(held.length).toBe(Math.min((nth - 1) * REFERENCE_BATCH, DISTINCT));
      // GC never marks a blob a committing version took: its refcount is not 0.
      expect(await index.markBlobsDeleting(held, new Date(Date.now() + 365 * 86_400_000))).toEqual([]);

      await commit(index, s);

      expect((await index.getVersion('ns', 'pkg', '2.0.0'))?.files).toHaveLength(FILES);
      // 1,000 files, 64 to an item, all written with the switch.
      expect(await versionFileItems({ clients, resources, index })).toEqual(Array(16).fill(s.uploadId));
      const { expected, actual } = await refcounts(index, s);
      expect(actual).toEqual(expected);
    },
  );

  it('killed before its switch and then expired, drops every reference it took: the blobs are unreferenced again', async () => {
    const { clients, resources, index } = await setup();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const s = directorySession('3.0.0', { expiresAt }, SMALLER);
    await index.createSession(s, audit());
    await expect(commit(indexOn(clientsKilledAt(clients, 3), resources), s)).rejects.toThrow('killed');
    const later = new Date(Date.now() + 120_000);

    expect(await index.expireSession(s.uploadId, later, audit('expire'))).toBe(true);

    const { actual } = await refcounts(index, s);
    expect([...actual.values()].every((n) => n === 0)).toBe(true);
    expect(await index.getVersion('ns', 'pkg', '3.0.0')).toBeNull();
    const deletable = await index.listDeletableBlobs(new Date(later.getTime() + 3600_000), 10_000);
    // The two batches taken before the kill: their blobs, unreferenced again (the rest never had a row).
    expect(deletable.length).toBe(2 * REFERENCE_BATCH);
  });

  it('killed part-way and then aborted, drops every reference it took', async () => {
    const { clients, resources, index } = await setup();
    const s = directorySession('3.1.0', {}, SMALLER);
    await index.createSession(s, audit());
    await expect(commit(indexOn(clientsKilledAt(clients, 3), resources), s)).rejects.toThrow('killed');

    await index.abortSession(s.uploadId, audit('abort'));

    const { actual } = await refcounts(index, s);
    expect([...actual.values()].every((n) => n === 0)).toBe(true);
  });

  it('holds every blob of a session re-using more stored blobs than one transaction takes', async () => {
    const { clients, resources, index } = await setup();
    const first = directorySession('6.0.0', {}, SMALLER);
    await index.createSession(first, audit());
    await commit(index, first);
    const expiresAt = new Date(Date.now() + 7_200_000).toISOString();
    const again = {
      ...directorySession('6.0.1', { expiresAt }, SMALLER),
      files: first.files.map(({ stagingKey: _, ...f }) => ({ ...f, action: 'exists' as const })),
    };

    await index.createSession(again, audit());

    expect((await index.getSession(again.uploadId))?.files).toHaveLength(SMALLER.files);
    // Held until the session's expiry: GC's grace runs from there, whatever happens to the references.
    const held = await Promise.all(
      [...new Set(first.files.map((f) => f.sha256))].map(async (sha) => {
        const res = await clients.dynamodb.send(
          new GetItemCommand({
            TableName: resources.table,
            Key: { pk: { S: `BLOB#${sha}` }, sk: { S: 'BLOB' } },
            ConsistentRead: true,
          }),
        );
        return res.Item?.unreferencedSince?.S;
      }),
    );
    expect(held.every((since) => since !== undefined && since >= expiresAt)).toBe(true);
  });

  it('that loses its version to another session drops its references at once and leaves no file item', async () => {
    const { clients, resources, index } = await setup();
    const winner = directorySession('4.0.0', {}, SMALLER);
    const loser = { ...directorySession('4.0.0', {}, SMALLER), files: winner.files.map((f) => ({ ...f })) };
    await index.createSession(winner, audit());
    await index.createSession(loser, audit());
    await commit(index, winner);

    await expect(commit(index, loser)).rejects.toMatchObject({ code: 'VersionExists' });

    const { expected, actual } = await refcounts(index, winner);
    expect(actual).toEqual(expected);
    // 250 files in 4 items, every one the winner's: the loser's transaction wrote none of its own.
    expect(await versionFileItems({ clients, resources, index })).toEqual(Array(4).fill(winner.uploadId));
    const read = await index.getVersion('ns', 'pkg', '4.0.0');
    expect(read?.uploadId).toBe(winner.uploadId);
    expect(read?.files.map((f) => f.name)).toEqual(winner.files.map((f) => f.name));
  });

  it('is deleted by GC in stages: killed part-way, it stays tombstoned, cannot be restored, and the next run finishes', async () => {
    const { clients, resources, index } = await setup();
    const s = directorySession('5.0.0', {}, SMALLER);
    await index.createSession(s, audit());
    await commit(index, s);
    const now = new Date();
    const ref = { namespace: 'ns', package: 'pkg', version: '5.0.0' };
    expect(await index.tombstoneVersion(ref, 'test', now, audit('tombstone'))).toBe(true);
    const cutoff = new Date(now.getTime() + 1000);

    const dying = indexOn(clientsKilledAt(clients, 2), resources);
    await expect(dying.deleteVersion(ref, cutoff, now, audit('delete'))).rejects.toThrow('killed');

    expect((await index.getVersion('ns', 'pkg', '5.0.0'))?.state).toBe('deleting');
    await expect(index.restoreVersion(ref, audit('restore'))).rejects.toMatchObject({ code: 'NotFound' });
    expect(await index.deleteVersion(ref, cutoff, now, audit('delete'))).toBe(true);
    expect(await index.getVersion('ns', 'pkg', '5.0.0')).toBeNull();
    expect(await versionFileItems({ clients, resources, index })).toEqual([]);
    const { actual } = await refcounts(index, s);
    expect([...actual.values()].every((n) => n === 0)).toBe(true);
  });

  it('deleted by request, is purged by GC in stages: its number stays taken, its references and file items go', async () => {
    const { clients, resources, index } = await setup();
    const s = directorySession('7.0.0', {}, SMALLER);
    await index.createSession(s, audit());
    await commit(index, s);
    const now = new Date();
    const ref = { namespace: 'ns', package: 'pkg', version: '7.0.0' };
    const deletion = { at: now.toISOString(), by: 'tester', reason: 'test' };
    expect(await index.markVersionDeleted(ref, deletion, now, audit('delete'))).toBe(true);

    expect(await index.deleteVersion(ref, new Date(now.getTime() + 1000), now, audit('purge'))).toBe(true);

    const purged = await index.getVersion('ns', 'pkg', '7.0.0');
    expect(purged).toMatchObject({ state: 'deleted', files: [], deletion });
    expect(await versionFileItems({ clients, resources, index })).toEqual([]);
    const { actual } = await refcounts(index, s);
    expect([...actual.values()].every((n) => n === 0)).toBe(true);
  });
});

/** Clients of their own whose DynamoDB client refuses its `nth` transaction (the others are untouched). */
function clientsKilledAt(_: ReturnType<typeof motoClients>, nth: number) {
  const clients = motoClients();
  killAt(clients, nth);
  return clients;
}
