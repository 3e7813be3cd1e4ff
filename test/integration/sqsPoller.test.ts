import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { SqsPoller } from '../../functions/adapters/aws/sqsPoller.ts';
import { stagedKeysOf } from '../../functions/handlers/scan.ts';
import { freshResources, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

async function setup() {
  const clients = motoClients();
  const resources = await freshResources(clients);
  const stage = (key: string) =>
    clients.s3.send(new PutObjectCommand({ Bucket: resources.bucket, Key: key, Body: 'bytes' }));
  return { clients, resources, stage };
}

const keysOf = (event: SQSEvent) => event.Records.flatMap(stagedKeysOf);

describe('SqsPoller', () => {
  it('feeds S3 notifications to the handler in the background, deletes them, and stops on request', async () => {
    const { clients, resources, stage } = await setup();
    let seen: (keys: string[]) => void = () => {};
    const delivered = new Promise<string[]>((resolve) => {
      seen = resolve;
    });
    const poller = new SqsPoller({
      sqs: clients.sqs,
      queueUrl: resources.scanQueueUrl,
      waitTimeSeconds: 1,
      handle: async (event) => {
        if (keysOf(event).length > 0) seen(keysOf(event));
        return { batchItemFailures: [] };
      },
    });

    poller.start();
    await stage('staging/01ARZ3NDEKTSV4RRFFQ69G5FAV/0');
    const keys = await delivered;
    await poller.stop();

    expect(keys).toEqual(['staging/01ARZ3NDEKTSV4RRFFQ69G5FAV/0']);
    expect(await poller.pollOnce(0)).toBe(0);
  });

  it('leaves a failed message to come back, and only that one', async () => {
    const { clients, resources, stage } = await setup();
    const batches: SQSEvent[] = [];
    const poller = new SqsPoller({
      sqs: clients.sqs,
      queueUrl: resources.scanQueueUrl,
      retryAfterSeconds: 0,
      handle: async (event): Promise<SQSBatchResponse> => {
        batches.push(event);
        const failing = event.Records.filter((r) => r.body.includes('%2F1') && batches.length === 1);
        return { batchItemFailures: failing.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    await poller.pollOnce(0); // the test event S3 sent when the notification was configured
    batches.length = 0;
    await stage('staging/01ARZ3NDEKTSV4RRFFQ69G5FAV/0');
    await stage('staging/01ARZ3NDEKTSV4RRFFQ69G5FAV/1');

    await poller.pollOnce(0);
    await poller.pollOnce(0);

    expect(keysOf(batches[0]!).sort()).toEqual([
      'staging/01ARZ3NDEKTSV4RRFFQ69G5FAV/0',
      'staging/01ARZ3NDEKTSV4RRFFQ69G5FAV/1',
    ]);
    expect(keysOf(batches[1]!)).toEqual(['staging/01ARZ3NDEKTSV4RRFFQ69G5FAV/1']);
    expect(batches[1]!.Records[0]!.attributes.ApproximateReceiveCount).toBe('2');
    expect(await poller.pollOnce(0)).toBe(0);
  });

  it('stops while a long poll is still waiting', async () => {
    const { clients, resources } = await setup();
    const poller = new SqsPoller({
      sqs: clients.sqs,
      queueUrl: resources.scanQueueUrl,
      waitTimeSeconds: 20,
      handle: async () => ({ batchItemFailures: [] }),
    });
    await poller.pollOnce(0);

    poller.start();
    await poller.stop();

    expect(await poller.pollOnce(0)).toBe(0);
  }, 10_000);
});
