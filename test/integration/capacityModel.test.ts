import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createAwsBackend } from '../../functions/adapters/aws/awsBackend.ts';
import { ADMIN_PRINCIPALS_ENV, parseAdminPrincipals } from '../../functions/adapters/aws/lambdaPrincipal.ts';
import { content } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { callerOf, drain, apiEvent as event, fixedOidc, iamCaller, publish } from './apiEvents.ts';
import { freshResources, motoClients } from './awsFixtures.ts';
import { CapacityRecorder, generic, summarize, type Touch } from './capacityRecorder.ts';
import { useMoto } from './moto.ts';

useMoto();

const ADMIN = iamCaller('arn:aws:sts::123456789012:assumed-role/platform-admin/alice');
const CI = iamCaller('arn:aws:sts::123456789012:assumed-role/ci/run-1');
/** DynamoDB's per-partition ceiling: 1,000 write units a second (an item ≤ 1 KB is one unit). */
const PARTITION_WRITES_PER_SECOND = 1000;

/**
 * The AWS backend as a warm API Lambda runs it (policies cached, as `ARCA_POLICY_CACHE_MS` does by
 * default), recording every DynamoDB request its client sends.
 */
async function setup() {
  const clients = motoClients();
  const resources = await freshResources(clients);
  const clock = new TestClock();
  const backend = await createAwsBackend(
    {
      ...process.env,
      ARCA_BUCKET: resources.bucket,
      ARCA_TABLE: resources.table,
      ARCA_SCAN_QUEUE: resources.scanQueue,
      ARCA_CURSOR_SECRET: 'capacity-test-secret',
    },
    { clients, clock, logger: new Logger({ logLevel: 'SILENT' }), startPoller: false },
  );
  const admins = parseAdminPrincipals(ADMIN_PRINCIPALS_ENV, 'arn:aws:iam::123456789012:role/platform-admin');
  const uncached = callerOf({
    core: backend.deps,
    access: { admins, oidc: fixedOidc({}), policyCacheMs: 0 },
  });
  const policy = {
    members: [{ principal: 'arn:aws:iam::123456789012:role/ci', roles: ['write', 'promote', 'read'] }],
  };
  expect(
    (await uncached(event('PUT', '/v1/namespaces/web/policy', { authorizer: ADMIN, body: policy }))).status,
  ).toBe(200);
  const call = callerOf({
    core: backend.deps,
    access: { admins, oidc: fixedOidc({}), policyCacheMs: 3_600_000 },
  });
  const recorder = new CapacityRecorder(clients, motoClients().dynamodb);
  return { backend, call, clock, recorder };
}

/**
 * Items each operation reads and writes (a 1-file publish, a warm Lambda), and the partitions it
 * touches with instance values replaced by their role. `docs/table-design.md` § Capacity explains
 * each line; a change here is a change of the table's cost model and belongs in that document too.
 */
const EXPECTED_MODEL = {
  create: {
    itemsRead: 2,
    itemsWritten: 4,
    read: ['table:BLOB#<sha256>', 'table:PKG#web/site'],
    written: ['gsi2:SESSIONS#open#<shard>', 'table:AUDIT#web#<shard>', 'table:SESSION#<uploadId>'],
  },
  commit: {
    itemsRead: 3,
    itemsWritten: 7,
    read: ['table:BLOB#<sha256>', 'table:SESSION#<uploadId>'],
    written: [
      'gsi1:PKG#web/site',
      'gsi2:SESSIONS#open#<shard>',
      'table:AUDIT#web#<shard>',
      'table:BLOB#<sha256>',
      'table:BLOBREF#<sha256>',
      'table:PKG#web/site',
      'table:SESSION#<uploadId>',
    ],
  },
  scan: {
    itemsRead: 9,
    itemsWritten: 7,
    read: ['table:BLOB#<sha256>', 'table:PKG#web/site', 'table:SESSION#<uploadId>'],
    written: [
      'table:AUDIT#web#<shard>',
      'table:BLOB#<sha256>',
      'table:PKG#web/site',
      'table:SESSION#<uploadId>',
    ],
  },
  promote: {
    itemsRead: 6,
    itemsWritten: 5,
    read: ['gsi1:LEASES#web/site', 'table:BLOB#<sha256>', 'table:PKG#web/site', 'table:POLICY#web'],
    written: ['table:AUDIT#web#<shard>', 'table:PKG#web/site'],
  },
  fetch: {
    itemsRead: 5,
    itemsWritten: 0,
    read: ['gsi1:LEASES#web/site', 'table:BLOB#<sha256>', 'table:PKG#web/site', 'table:POLICY#web'],
    written: [],
  },
  gcStep: {
    itemsRead: 12,
    itemsWritten: 6,
    read: [
      'gsi1:PKG#web/site',
      'gsi2:PACKAGES',
      'gsi2:POLICIES',
      'gsi2:SESSIONS#open',
      'gsi2:SESSIONS#open#<shard>',
      'table:GC#position',
      'table:LOCK#gc',
      'table:POLICY#web',
      'table:SESSION#<uploadId>',
    ],
    written: [
      'gsi2:SESSIONS#open#<shard>',
      'table:AUDIT#web#<shard>',
      'table:GC#position',
      'table:LOCK#gc',
      'table:SESSION#<uploadId>',
    ],
  },
};

type Setup = Awaited<ReturnType<typeof setup>>;

/** One publish of `pkg@version` measured step by step: create (with the part PUT), commit, scan. */
async function measuredPublish({ backend, call, recorder }: Setup, pkg: string, version: string) {
  let uploadId = '';
  const create = await recorder.measure(async () => {
    uploadId = await publish(call, CI, version, content(`${pkg}@${version}`, 2048), {
      namespace: 'web',
      package: pkg,
    });
  });
  const commit = await recorder.measure(async () => {
    expect((await call(event('POST', `/v1/uploads/${uploadId}/commit`, { authorizer: CI }))).status).toBe(
      200,
    );
  });
  const scan = await recorder.measure(() => drain(backend));
  return { create, commit, scan };
}

const written = (touches: readonly Touch[]) =>
  new Set(touches.filter((t) => t.kind === 'write').map((t) => `${t.on}:${t.partition}`));

describe('DynamoDB capacity model', () => {
  it('reads and writes a fixed number of items per operation, on per-upload, per-blob and per-package keys', async () => {
    const setupResult = await setup();
    const { call, clock, recorder } = setupResult;
    await measuredPublish(setupResult, 'site', '0.9.0'); // warms the package list entry and caches
    const { create, commit, scan } = await measuredPublish(setupResult, 'site', '1.0.0');
    const promote = await recorder.measure(async () => {
      const res = await call(
        event('POST', '/v1/packages/web/site/versions/1.0.0/promote', {
          authorizer: CI,
          body: { stage: 'dev' },
        }),
      );
      expect(res.status).toBe(200);
    });
    const fetchUrl = await recorder.measure(async () => {
      const res = await call(
        event('GET', '/v1/packages/web/site/versions/1.0.0/files/site.tgz', {
          authorizer: CI,
          query: 'redirect=false',
        }),
      );
      expect(res.status).toBe(200);
    });
    // One GC step: the session of an abandoned upload expires.
    await publish(call, CI, '2.0.0', content('abandoned', 100), { namespace: 'web', package: 'site' });
    clock.advance(8 * 24 * 3600);
    const gcStep = await recorder.measure(async () => {
      const res = await call(event('POST', '/v1/gc/run', { authorizer: ADMIN, body: { maxActions: 1 } }));
      expect(res.status).toBe(200);
    });

    const model = { create, commit, scan, promote, fetch: fetchUrl, gcStep };
    const table = Object.fromEntries(Object.entries(model).map(([op, touches]) => [op, summarize(touches)]));
    console.log(`capacity model (items per operation):\n${JSON.stringify(table, null, 2)}`);

    expect(table).toEqual(EXPECTED_MODEL);
  });

  it('shares no written key among all publishes of a namespace', async () => {
    const setupResult = await setup();
    const publishes: Touch[][] = [];
    for (let i = 0; i < 12; i++) {
      const { create, commit, scan } = await measuredPublish(setupResult, `pkg-${i % 3}`, `1.0.${i}`);
      publishes.push([...create, ...commit, ...scan]);
    }
    const keySets = publishes.map(written);
    const shared = [...keySets[0]!].filter((key) => keySets.every((keys) => keys.has(key)));
    expect(shared).toEqual([]);

    // The modelled ceiling: a key every publish of a namespace may write is sharded 16 ways; per
    // publish it takes (writes / publishes) of them, spread over its shards.
    const writes = new Map<string, number>();
    for (const touch of publishes.flat().filter((t) => t.kind === 'write')) {
      const key = `${touch.on}:${generic(touch.partition)}`;
      writes.set(key, (writes.get(key) ?? 0) + touch.items);
    }
    const namespaceWide = [...writes].filter(([key]) => key.endsWith('#<shard>'));
    for (const [key, count] of namespaceWide) {
      const perShardPerPublish = count / publishes.length / 16;
      const ceiling = Math.floor(PARTITION_WRITES_PER_SECOND / perShardPerPublish);
      console.log(
        `${key}: ${count} items over ${publishes.length} publishes, 16 shards → ceiling ${ceiling} publishes/s per namespace`,
      );
      expect(ceiling).toBeGreaterThanOrEqual(1000);
    }
  });
});
