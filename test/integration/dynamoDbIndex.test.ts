import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '../../functions/adapters/aws/clients.ts';
import { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import type { ProvisionedResources } from '../../functions/adapters/aws/provision.ts';
import { ThrottledError, VersionExistsError } from '../../functions/core/errors.ts';
import type { ScanOutcome, UploadSession } from '../../functions/ports.ts';
import { audit, content, session, sha256, versionOf } from '../support/fixtures.ts';
import { awsError, freshResources, indexOn, intercept, motoClients, noWait } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

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

const outcome = (s: UploadSession, verdict: ScanOutcome['verdict']): ScanOutcome => ({
  uploadId: s.uploadId,
  fileIndex: 0,
  sha256: s.files[0]!.sha256,
  size: s.files[0]!.size,
  verdict,
  report: { status: verdict === 'verified' ? 'clean' : 'infected', findings: [] },
  at: new Date(),
});

function fileOf(i: number, sha = sha256(`file-${i}`)) {
  return {
    name: `f${i}.bin`,
    size: i,
    sha256: sha,
    mediaType: 'application/octet-stream',
    action: 'upload' as const,
  };
}

/** A second index on its own client: writes it makes are "another process" to the first. */
function otherIndex(resources: ProvisionedResources): DynamoDbIndex {
  return indexOn(motoClients(), resources);
}

async function markBlobDeleting(clients: AwsClients, table: string, sha: string) {
  await clients.dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: `BLOB#${sha}` }, sk: { S: 'BLOB' } },
      UpdateExpression: 'SET #s = :d',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':d': { S: 'deleting' } },
    }),
  );
}

describe('DynamoDbIndex', () => {
  it('lets exactly one of five sessions racing for one version commit it; the others get VersionExists', async () => {
    const { index } = await setup();
    const racers = Array.from({ length: 5 }, () => session({ version: '3.0.0' }));
    for (const s of racers) await index.createSession(s, audit());

    const results = await Promise.allSettled(racers.map((s) => commit(index, s)));

    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [racers[i]!.uploadId] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionExistsError);
    expect((await index.getVersion('ns', 'pkg', '3.0.0'))!.uploadId).toBe(winners[0]);
  });

  it('refuses a commit whose blob GC is deleting with a blobDeleting Conflict, and changes nothing', async () => {
    const { clients, resources, index } = await setup();
    const earlier = session();
    await index.createSession(earlier, audit());
    await commit(index, earlier);
    await markBlobDeleting(clients, resources.table, earlier.files[0]!.sha256);
    const s = session({ files: earlier.files });
    await index.createSession(s, audit());

    const attempt = commit(index, s);

    await expect(attempt).rejects.toMatchObject({
      code: 'Conflict',
      details: { reason: 'blobDeleting', blobs: [earlier.files[0]!.sha256] },
    });
    expect(await index.getVersion(s.namespace, s.package, s.version)).toBeNull();
    expect((await index.getSession(s.uploadId))!.state).toBe('open');
    expect((await index.getBlobs([earlier.files[0]!.sha256])).get(earlier.files[0]!.sha256)!.refcount).toBe(
      1,
    );
  });

  it('commits 50 files in one transaction, counting one reference per file on shared blobs', async () => {
    const { index } = await setup();
    const shared = sha256(content('shared'));
    const files = Array.from({ length: 50 }, (_, i) => fileOf(i, i < 25 ? sha256(`distinct-${i}`) : shared));
    const s = session({ files });
    await index.createSession(s, audit());

    await commit(index, s);

    const blobs = await index.getBlobs(files.map((f) => f.sha256));
    expect(blobs.size).toBe(26);
    expect(blobs.get(shared)!.refcount).toBe(25);
    expect((await index.getVersion(s.namespace, s.package, s.version))!.files).toHaveLength(50);
  });

  it('retries throttled requests and transaction conflicts until they go through', async () => {
    const { clients, resources } = await setup();
    const index = indexOn(clients, resources);
    const conflict = awsError('TransactionCanceledException', {
      CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
    });
    const injected = [
      awsError('ProvisionedThroughputExceededException'),
      conflict,
      awsError('ThrottlingException'),
    ];
    intercept(clients.dynamodb, 'TransactWriteItemsCommand', async (send, call) => {
      if (call <= injected.length) throw injected[call - 1];
      return send();
    });
    intercept(clients.dynamodb, 'GetItemCommand', async (send, call) => {
      if (call === 1) throw awsError('ProvisionedThroughputExceededException');
      return send();
    });
    const s = session();

    await index.createSession(s, audit());

    expect((await index.getSession(s.uploadId))!.state).toBe('open');
  });

  it('answers ThrottledError when DynamoDB keeps throttling past the last attempt', async () => {
    const { clients, resources } = await setup();
    const index = new DynamoDbIndex({
      dynamodb: clients.dynamodb,
      table: resources.table,
      retry: { ...noWait, maxAttempts: 3 },
    });
    intercept(clients.dynamodb, 'GetItemCommand', async () => {
      throw awsError('ThrottlingException');
    });

    await expect(index.getVersion('ns', 'pkg', '1.0.0')).rejects.toBeInstanceOf(ThrottledError);
  });

  it('records a scan that lands between a commit read and its write: the commit fails sessionChanged, nothing is lost', async () => {
    const { clients, resources, index } = await setup();
    const s = session();
    await index.createSession(s, audit());
    const scanner = otherIndex(resources);
    intercept(clients.dynamodb, 'TransactWriteItemsCommand', async (send, call) => {
      if (call === 1) await scanner.recordScan(outcome(s, 'verified'));
      return send();
    });

    await expect(commit(index, s)).rejects.toMatchObject({ details: { reason: 'sessionChanged' } });
    await commit(index, s);

    const stored = await index.getSession(s.uploadId);
    expect(stored).toMatchObject({ state: 'committed' });
    expect(stored!.files[0]!.verdict).toBe('verified');
    expect((await index.getBlobs([s.files[0]!.sha256])).get(s.files[0]!.sha256)).toMatchObject({
      state: 'available',
      refcount: 1,
    });
  });

  it('records a rejection whose session was committed after it was read onto the committed version', async () => {
    const { clients, resources, index } = await setup();
    const s = session();
    await index.createSession(s, audit());
    const committer = otherIndex(resources);
    intercept(clients.dynamodb, 'TransactWriteItemsCommand', async (send, call) => {
      if (call === 1) await commit(committer, s);
      return send();
    });

    await index.recordScan(outcome(s, 'rejected'));

    const version = await index.getVersion(s.namespace, s.package, s.version);
    expect(version!.files[0]!.rejection).toMatchObject({ status: 'infected' });
    expect((await index.getSession(s.uploadId))!.files[0]!.verdict).toBe('rejected');
  });
});

describe('session files on DynamoDB', () => {
  it('writes a verdict into its own file item, not the whole list (defect: each verdict of a 1,000-file session rewrote ~220 KB)', async () => {
    const { clients, index } = await setup();
    const base = session();
    const files = Array.from({ length: 1000 }, (_, i) => ({
      ...fileOf(i),
      name: `dist/assets/chunk-${String(i).padStart(4, '0')}-${'x'.repeat(120)}.js`,
      stagingKey: `staging/${base.uploadId}/${i}`,
    }));
    const s = session({ uploadId: base.uploadId, files });
    await index.createSession(s, audit());
    const written: number[] = [];
    intercept(clients.dynamodb, 'TransactWriteItemsCommand', async (send, _call, input) => {
      written.push(JSON.stringify(input).length);
      return send();
    });

    const recorded = await index.recordScan({
      ...outcome(s, 'verified'),
      fileIndex: 700,
      sha256: files[700]!.sha256,
      size: 700,
    });

    expect(recorded).toEqual({ recorded: true, sessionState: 'open', awaitingScan: 999 });
    // The whole list is ~200 KB of JSON; the file's item and the header are a few KB.
    expect(written).toHaveLength(1);
    expect(written[0]).toBeLessThan(8_000);
    const read = await index.getSession(s.uploadId);
    expect(read?.files).toHaveLength(1000);
    expect(read?.files[700]).toMatchObject({ name: files[700]!.name, verdict: 'verified' });
    expect(read?.files.filter((f) => f.verdict)).toHaveLength(1);
    expect((await index.getSessionFile(s.uploadId, 700))?.file?.verdict).toBe('verified');
    expect((await index.getSessionFile(s.uploadId, 1000))?.file).toBeUndefined();
  });

  it('reads and scans a session written with its files inside the session item (before file items)', async () => {
    const { clients, resources, index } = await setup();
    const s = session({
      files: [fileOf(0), fileOf(1)].map((f, i) => ({ ...f, stagingKey: `staging/x/${i}` })),
    });
    await index.createSession(s, audit());
    // Rewrite it as the old layout: the list in the header, no file items.
    const { sessionItem } = await import('../../functions/adapters/aws/dynamoDbItems.ts');
    const { PutItemCommand, DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
    const { toAttributes } = await import('../../functions/adapters/aws/dynamoDbExpression.ts');
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: resources.table, Item: toAttributes(sessionItem(s)) }),
    );
    await clients.dynamodb.send(
      new DeleteItemCommand({
        TableName: resources.table,
        Key: toAttributes({ pk: `SESSION#${s.uploadId}`, sk: 'FILES#0000' }),
      }),
    );

    expect((await index.getSession(s.uploadId))?.files).toHaveLength(2);
    const recorded = await index.recordScan({
      ...outcome(s, 'verified'),
      fileIndex: 1,
      sha256: s.files[1]!.sha256,
      size: 1,
    });
    expect(recorded).toEqual({ recorded: true, sessionState: 'open', awaitingScan: 1 });
    await commit(index, s);
    expect(await index.recordScan(outcome(s, 'rejected'))).toEqual({
      recorded: true,
      sessionState: 'committed',
      awaitingScan: 0,
    });
    const read = await index.getSession(s.uploadId);
    expect(read?.files.map((f) => f.verdict)).toEqual(['rejected', 'verified']);
  });
});

describe('retention candidates on DynamoDB', () => {
  it('reads the newest keepLast and the old entries only, never the versions in between (issue 17: retention read every version)', async () => {
    const { clients, index } = await setup();
    const day = 24 * 3_600_000;
    const now = Date.now();
    // 30 versions, one a day: 29 days old down to today.
    for (let i = 0; i < 30; i++) {
      const s = session({ version: `1.0.${i}` });
      await index.createSession(s, audit());
      await commit(index, s, new Date(now - (29 - i) * day));
    }
    let entriesRead = 0;
    let versionsRead = 0;
    intercept(clients.dynamodb, 'QueryCommand', async (send) => {
      const result = await send();
      entriesRead += ((result.output as { Items?: unknown[] }).Items ?? []).length;
      return result;
    });
    intercept(clients.dynamodb, 'BatchGetItemCommand', async (send, _call, input) => {
      const request = (input as { RequestItems: Record<string, { Keys: unknown[] }> }).RequestItems;
      versionsRead += Object.values(request).reduce((n, r) => n + r.Keys.length, 0);
      return send();
    });

    // Keep the newest 5 and anything younger than 20 days: 1.0.0 … 1.0.9 (29 … 20 days old) go.
    const candidates = await index.listRetentionCandidates('ns', 'pkg', 5, new Date(now - 19.5 * day));

    expect(candidates.map((v) => v.version)).toEqual(Array.from({ length: 10 }, (_, i) => `1.0.${9 - i}`));
    expect(entriesRead).toBe(15); // the newest 5, then the 10 old ones
    expect(versionsRead).toBe(10); // only the candidates are read whole
  });
});
