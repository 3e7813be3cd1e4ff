import { DeleteItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '../../functions/adapters/aws/clients.ts';
import type { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { INDEX_NAMES } from '../../functions/config/resources.ts';
import type { UploadSession } from '../../functions/ports.ts';
import { audit, session, sha256, versionOf } from '../support/fixtures.ts';
import { freshResources, indexOn, intercept, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

async function setup() {
  const clients = motoClients();
  const resources = await freshResources(clients);
  // Changes "another process" makes between an index read and the table read that follows it.
  const other = motoClients();
  return { clients, other, table: resources.table, index: indexOn(clients, resources) };
}

async function published(index: DynamoDbIndex, s: UploadSession) {
  await index.createSession(s, audit());
  const now = new Date();
  await index.commitSession(
    { uploadId: s.uploadId, sessionRevision: 0, now, version: versionOf(s, now), availableBlobs: [] },
    audit('commit'),
  );
}

async function entries(clients: AwsClients, table: string, index: string, list: string) {
  const role = index === INDEX_NAMES.minimal.gsi1 ? 'gsi1' : 'gsi2';
  const res = await clients.dynamodb.send(
    new QueryCommand({
      TableName: table,
      IndexName: index,
      KeyConditionExpression: '#pk = :list',
      ExpressionAttributeNames: { '#pk': `${role}pk` },
      ExpressionAttributeValues: { ':list': { S: list } },
    }),
  );
  return (res.Items ?? []).map((item) => unmarshall(item));
}

const remove = (clients: AwsClients, table: string, pk: string, sk: string) =>
  clients.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }));

const setState = (clients: AwsClients, table: string, pk: string, sk: string, state: string) =>
  clients.dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: pk }, sk: { S: sk } },
      UpdateExpression: 'SET #state = :state',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':state': { S: state } },
    }),
  );

describe('GSI projections', () => {
  it('copy no file list, metadata, token secret or policy into an index entry', async () => {
    const { clients, table, index } = await setup();
    const s = session({ namespace: 'web', package: 'site' });
    await published(index, s);
    await index.createSession(session({ namespace: 'web', package: 'site' }), audit());
    await index.putToken(
      {
        id: 'tok-1',
        name: 'ci',
        secretHash: sha256('secret'),
        roles: { web: ['read'] },
        createdAt: new Date().toISOString(),
        createdBy: 'tester',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
      audit(),
    );
    await index.putPolicy(
      'web',
      {
        enforceOrder: false,
        immutableStages: [],
        retention: { keepLast: 1, maxAgeDays: 1, keepPromotedPerStage: 1, graceHours: 1 },
      },
      audit(),
    );

    const [version] = await entries(clients, table, INDEX_NAMES.minimal.gsi1, 'PKG#web/site');
    expect(version).toMatchObject({ version: s.version, state: 'live', namespace: 'web' });
    expect(version).not.toHaveProperty('files');
    expect(version).not.toHaveProperty('metadata');
    const listed = [
      ...(await Promise.all(
        [...'0123456789abcdef'].map((shard) =>
          entries(clients, table, INDEX_NAMES.minimal.gsi2, `SESSIONS#open#${shard}`),
        ),
      )),
      await entries(clients, table, INDEX_NAMES.minimal.gsi2, 'TOKENS'),
      await entries(clients, table, INDEX_NAMES.minimal.gsi2, 'POLICIES'),
    ].flat();
    expect(listed).toHaveLength(3);
    for (const entry of listed)
      for (const whole of ['files', 'metadata', 'secretHash', 'roles', 'policy'])
        expect(entry).not.toHaveProperty(whole);
    // Whole records still come back, from the table.
    expect((await index.listTokens())[0]).toMatchObject({ id: 'tok-1', secretHash: sha256('secret') });
    expect((await index.listPolicies()).get('web')).toMatchObject({ retention: { keepLast: 1 } });
  });

  it('keeps the gsi1 entry of a 200-file version under 1 KB (one write unit), its item being over 20 KB', async () => {
    const { clients, table, index } = await setup();
    const files = Array.from({ length: 200 }, (_, i) => ({
      ...session().files[0]!,
      name: `dist/assets/chunk-${String(i).padStart(4, '0')}-${'x'.repeat(60)}.js`,
      sha256: sha256(`chunk-${i}`),
      stagingKey: `staging/chunk-${i}`,
    }));
    await published(index, session({ namespace: 'web', package: 'site', version: '2.0.0', files }));

    const [entry] = await entries(clients, table, INDEX_NAMES.minimal.gsi1, 'PKG#web/site');
    const item = await index.getVersion('web', 'site', '2.0.0');
    // JSON is longer than DynamoDB's own size of the same attributes: a bound from above.
    const entryBytes = JSON.stringify(entry).length;
    const itemBytes = JSON.stringify(item).length;
    console.log(`gsi1 entry of a 200-file version: ${entryBytes} B; the version item: ${itemBytes} B`);
    expect(entryBytes).toBeLessThan(1024);
    expect(itemBytes).toBeGreaterThan(20 * 1024);
  });

  it('lists versions whole from the table, leaving out one deleted or gone after the index was read', async () => {
    const { clients, other, table, index } = await setup();
    const [gone, deleted, kept] = ['1.0.0', '1.1.0', '1.2.0'].map((version) =>
      session({ namespace: 'web', package: 'site', version }),
    );
    for (const s of [gone!, deleted!, kept!]) await published(index, s);
    intercept(clients.dynamodb, 'QueryCommand', async (send, call) => {
      const answered = await send();
      if (call === 1) {
        await remove(other, table, 'PKG#web/site', 'VERSION#1.0.0');
        await setState(other, table, 'PKG#web/site', 'VERSION#1.1.0', 'deleted');
      }
      return answered;
    });

    const page = await index.listVersions('web', 'site', 10);

    expect(page.items.map((v) => v.version)).toEqual(['1.2.0']);
    expect(page.items[0]!.files).toEqual(versionOf(kept!).files);
    expect(page.next).toBeUndefined();
    const withDeleted = await index.listVersions('web', 'site', 10, undefined, { includeDeleted: true });
    expect(withDeleted.items.map((v) => [v.version, v.state])).toEqual([
      ['1.2.0', 'live'],
      ['1.1.0', 'deleted'],
    ]);
  });

  it('keeps the page position of the index when the last version of a page is gone by the table read', async () => {
    const { clients, other, table, index } = await setup();
    for (const version of ['1.0.0', '1.1.0', '1.2.0'])
      await published(index, session({ namespace: 'web', package: 'site', version }));
    intercept(clients.dynamodb, 'QueryCommand', async (send, call) => {
      const answered = await send();
      if (call === 1) await remove(other, table, 'PKG#web/site', 'VERSION#1.1.0');
      return answered;
    });

    const first = await index.listVersions('web', 'site', 2);
    const rest = await index.listVersions('web', 'site', 2, first.next);

    expect(first.items.map((v) => v.version)).toEqual(['1.2.0']);
    expect(rest.items.map((v) => v.version)).toEqual(['1.0.0']);
    expect(rest.next).toBeUndefined();
  });

  it('expires sessions read from the table: one gone or aborted after the index was read is not listed', async () => {
    const { clients, other, table, index } = await setup();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const [gone, aborted, expired] = [0, 1, 2].map(() => session({ expiresAt: past }));
    for (const s of [gone!, aborted!, expired!]) await index.createSession(s, audit());
    // Between the index read and the table reads (one snapshot per session), another process acts.
    let changed: Promise<void> | undefined;
    intercept(clients.dynamodb, 'TransactGetItemsCommand', async (send) => {
      changed ??= (async () => {
        await remove(other, table, `SESSION#${gone!.uploadId}`, 'SESSION');
        await setState(other, table, `SESSION#${aborted!.uploadId}`, 'SESSION', 'aborted');
      })();
      await changed;
      return send();
    });

    const listed = await index.listExpiredSessions(new Date(), 10);

    expect(listed.map((s) => s.uploadId)).toEqual([expired!.uploadId]);
    expect(listed[0]!.files).toEqual(expired!.files);
  });
});
