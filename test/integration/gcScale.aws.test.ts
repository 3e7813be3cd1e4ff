import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { seededPackage, seededSha, VERSIONS_PER_PACKAGE } from '../../bench/lib/gcScaleSeed.ts';
import {
  putSeededBlobs,
  seededVersionRecord,
  seedScaleVersionsDynamoDb,
} from '../../bench/lib/gcScaleSeedDynamoDb.ts';
import type { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import type { Item } from '../../functions/adapters/aws/dynamoDbItems.ts';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import { type GcRun, gcRun, gcRunsSummary } from '../support/gcRuns.ts';
import { TestClock } from '../support/testClock.ts';
import { coreOn, freshResources, indexOn, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

/**
 * moto copies the whole table for every item of every transaction and walks every item for every
 * query, so a GC step costs time in proportion to the table: 770 versions (70 packages, 2,400
 * items) took two minutes here on a quiet machine and three and a half under a load of 8; 1,100
 * took four and a half. `ARCA_GC_SCALE_MOTO_VERSIONS` runs it larger by hand.
 */
const VERSIONS = Number(process.env.ARCA_GC_SCALE_MOTO_VERSIONS ?? 770);
/** Packages whose oldest version is promoted, and as many after them leased. */
const PROTECTED_PACKAGES = 10;
const BUDGET_MS = 5000;
/**
 * What a step may start late (gcScale.test.ts allows 1 s): a run's time here is counted from before
 * it takes its lock and reads its saved position, and a step starts after the requests the check
 * before it needed (a blob batch lists 16 shards first); on moto each request takes from tens of ms
 * to over a second on a busy machine, and one run here started a step 1.1 s past its budget.
 */
const START_SLACK_MS = 3000;
const DAY_S = 86_400;
/** A client whose writes are not queued behind the index's: the seed's puts are independent. */
const rawClient = () =>
  new DynamoDBClient({ region: 'us-east-1', endpoint: process.env.AWS_ENDPOINT_URL as string });

async function tableItems(table: string): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of paginateScan({ client: rawClient() }, { TableName: table, ConsistentRead: true }))
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
  return items;
}

describe('the DynamoDB scale seed', () => {
  it('writes the items a commit and a clean scan leave, which read back through the index alike', async () => {
    const clients = motoClients();
    const [committed, seeded] = [await freshResources(clients), await freshResources(clients)];
    const then = new Date(Date.now() - 60 * DAY_S * 1000);
    const v = seededVersionRecord(0, then);
    const file = v.files[0]!;
    const expiresAt = new Date(Date.parse(v.createdAt) + 3_600_000).toISOString();
    const audit = {
      at: v.createdAt,
      actor: 'seed',
      action: 'upload.commit',
      namespace: 'scale',
      target: 'seed',
      requestId: 'seed',
    };
    const viaApi = indexOn(clients, committed);
    await viaApi.createSession(
      { ...v, state: 'open', expiresAt, files: [{ ...file, action: 'upload' }] },
      audit,
    );
    await viaApi.commitSession(
      { uploadId: v.uploadId, sessionRevision: 0, now: then, availableBlobs: [], version: v },
      audit,
    );
    await viaApi.recordScan({
      uploadId: v.uploadId,
      fileIndex: 0,
      sha256: file.sha256,
      size: file.size,
      verdict: 'verified',
      report: { status: 'clean', findings: [] },
      at: new Date(v.createdAt),
    });
    const viaSeed = indexOn(clients, seeded);
    await seedScaleVersionsDynamoDb({
      dynamodb: rawClient(),
      index: viaSeed,
      table: seeded.table,
      count: 1,
      committedAt: then,
      leaseUntil: then,
      protectedPackages: 0,
    });

    // The same items, attribute for attribute, but the session (its header and file items) and the
    // audit event (GC reads neither) and the per-process counter that orders a version within its instant.
    const comparable = (items: Item[]) =>
      items
        .filter((i) => !['session', 'sessionFiles', 'audit'].includes(i.kind as string))
        .map((i) => (i.gsi1sk ? { ...i, gsi1sk: (i.gsi1sk as string).split('#')[0] } : i))
        .sort((a, b) => (`${a.pk}${a.sk}` < `${b.pk}${b.sk}` ? -1 : 1));
    const real = await tableItems(committed.table);
    expect(new Set(real.map((i) => i.kind))).toEqual(
      new Set(['session', 'sessionFiles', 'audit', 'version', 'blob', 'search', 'package']),
    );
    expect(comparable(await tableItems(seeded.table))).toEqual(comparable(real));
    const reads = (index: DynamoDbIndex) =>
      Promise.all([
        index.getVersion('scale', v.package, v.version),
        index.listVersionSummaries('scale', v.package),
        index.listRetentionCandidates('scale', v.package, 0, new Date()),
        index.getBlobs([file.sha256]),
        index.listPackages(10),
        index.searchByBlob(file.sha256, '*', 10),
        index.referencedBlobs([file.sha256], ['scale']),
      ]);
    expect(await reads(viaSeed)).toEqual(await reads(viaApi));
  });
});

describe(`GC at scale on DynamoDB (moto): ${VERSIONS} versions, ${BUDGET_MS / 1000} s runs`, () => {
  it('finishes in repeated bounded runs that each make progress, surviving kills, deleting each thing once', async () => {
    const clients = motoClients();
    const resources = await freshResources(clients);
    const clock = new TestClock();
    const deps = coreOn(clients, resources, clock);
    const index = deps.index as DynamoDbIndex;
    const seeding = performance.now();
    await seedScaleVersionsDynamoDb({
      dynamodb: rawClient(),
      index,
      table: resources.table,
      count: VERSIONS,
      committedAt: new Date(clock.now().getTime() - 60 * DAY_S * 1000),
      leaseUntil: new Date(clock.now().getTime() + 365 * DAY_S * 1000),
      protectedPackages: PROTECTED_PACKAGES,
    });
    await putSeededBlobs(clients.s3, resources.bucket, VERSIONS);
    console.log(`seeded ${VERSIONS} versions on moto in ${Math.round(performance.now() - seeding)} ms`);

    const runs: GcRun[] = [];
    const started = performance.now();
    // Rounds: retention tombstones; past the grace the versions go; past the blob grace, their blobs.
    // A run on moto makes only a few writes, so each round kills one run where its work is: the
    // second run after 2 tombstones, the first after 3 version deletions, and the first of the blob
    // round right after it marked its batch `deleting` (the next run must finish those deletions).
    const rounds = [
      { advanceDays: 0, kills: [undefined, 2] },
      { advanceDays: 2, kills: [3] },
      { advanceDays: 2, kills: [1] },
    ];
    for (const { advanceDays, kills } of rounds) {
      clock.advance(advanceDays * DAY_S);
      for (;;) {
        const positionBefore = await index.getGcPosition();
        const killAfter = kills.shift();
        const result = await gcRun({ ...deps, index }, clock, BUDGET_MS, killAfter);
        runs.push(result);
        const { report, stepStarts } = result;
        if (!report) continue;
        // A run that ended before its kill point hands the kill on to the next run of the round.
        if (killAfter !== undefined) kills.unshift(killAfter);
        const did = report.tombstoned + report.deleted.versions + report.deleted.blobs + report.skipped;
        // Progress: every run that did not finish did something, or moved the retention walk on.
        if (report.stoppedBy !== 'done')
          expect(did > 0 || (await index.getGcPosition()) !== positionBefore).toBe(true);
        for (const at of stepStarts) expect(at).toBeLessThan(BUDGET_MS + START_SLACK_MS);
        if (report.stoppedBy === 'done') break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(gcRunsSummary('GC at scale on moto', runs, VERSIONS, seconds));
    expect(runs.filter((r) => r.killed).length).toBe(rounds.length);

    // Nothing lost: the newest 10 of every package, and the protected oldest ones, are live.
    const fullPackages = Math.floor(VERSIONS / VERSIONS_PER_PACKAGE);
    const protectedCount = Math.min(2 * PROTECTED_PACKAGES, fullPackages);
    const expectedDeleted = fullPackages - protectedCount;
    const items = await tableItems(resources.table);
    const versions = items.filter((i) => i.kind === 'version');
    expect(versions.length).toBe(VERSIONS - expectedDeleted);
    expect(versions.every((i) => i.state === 'live')).toBe(true);
    for (let p = 0; p < fullPackages; p++) {
      const oldest = await index.getVersion('scale', seededPackage(p), '1.0.0');
      expect(oldest?.state).toBe(p < protectedCount ? 'live' : undefined);
    }
    // Every blob a live version references is stored, item and bytes; every other blob is gone.
    const blobs = items.filter((i) => i.kind === 'blob');
    const referenced = new Set(versions.map((i) => (i.files as { sha256: string }[])[0]!.sha256));
    expect(blobs.length).toBe(VERSIONS - expectedDeleted);
    expect(blobs.every((b) => referenced.has(b.sha256 as string) && b.refcount === 1)).toBe(true);
    expect(await storedBlobs(clients.s3, resources.bucket)).toEqual(new Set(referenced));
    expect(referenced.has(seededSha(0))).toBe(true);

    // Each deletion happened once: one audit event per deleted version and per deleted blob.
    const events = items.filter((i) => i.kind === 'audit' && String(i.action).startsWith('gc.'));
    for (const action of ['gc.tombstoneVersion', 'gc.deleteVersion', 'gc.deleteBlob']) {
      const targets = events.filter((e) => e.action === action).map((e) => e.target);
      expect({ action, n: targets.length, distinct: new Set(targets).size }).toEqual({
        action,
        n: expectedDeleted,
        distinct: expectedDeleted,
      });
    }
    expect(await index.getGcPosition()).toBeNull();
  }, 900_000);
});

async function storedBlobs(s3: ReturnType<typeof motoClients>['s3'], bucket: string): Promise<Set<string>> {
  const found = new Set<string>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: BUCKET_LAYOUT.blobPrefix,
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) found.add(o.Key!.split('/').at(-1)!);
    token = page.NextContinuationToken;
  } while (token);
  return found;
}
