import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config/env.ts';
import { EVENT_TYPES } from '../../functions/core/events.ts';
import { startAwsServer } from '../support/awsServer.ts';
import { call, createUpload, settled, uploadAll } from '../support/client.ts';
import { content } from '../support/fixtures.ts';
import type { TestServer } from '../support/testServer.ts';
import { motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

describe('events on AWS: the stack bus, a rule, an SQS target (moto)', () => {
  useMoto();
  const bus = `arca-events-${process.pid}`;
  let s: TestServer;
  let queueUrl: string;
  const received: any[] = [];

  /** Reads the target queue until it holds `count` events in all; fails after `polls` empty reads. */
  const receive = async (count: number, polls = 100): Promise<any[]> => {
    const { sqs } = motoClients();
    for (let i = 0; i < polls && received.length < count; i++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      for (const m of Messages) {
        received.push(JSON.parse(m.Body!));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
      if (Messages.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    return received;
  };

  /** The bus, its rule and the rule's target queue (made again after a test deletes the bus). */
  const recreateBus = async () => {
    const clients = motoClients();
    await clients.eventBridge.send(new CreateEventBusCommand({ Name: bus }));
    const queue = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${bus}-target` }));
    queueUrl = queue.QueueUrl!;
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await clients.eventBridge.send(
      new PutRuleCommand({
        Name: 'arca-versions',
        EventBusName: bus,
        EventPattern: JSON.stringify({ source: ['arca'], detail: { arcanamespace: ['ev'] } }),
      }),
    );
    await clients.eventBridge.send(
      new PutTargetsCommand({
        Rule: 'arca-versions',
        EventBusName: bus,
        Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn }],
      }),
    );
  };

  beforeAll(async () => {
    await recreateBus();
    process.env[ENV.eventBus] = bus;
    s = await startAwsServer({});
  });
  afterAll(async () => {
    delete process.env[ENV.eventBus];
    await s?.close();
  });

  it('puts each change on the bus once, as the CloudEvents document webhooks get', async () => {
    const files = { 'a.bin': content('eb1') };
    const created = await createUpload(s.url, { namespace: 'ev', package: 'svc', version: '1', files });
    await uploadAll(created, files);
    const commit = `/v1/uploads/${created.body.uploadId}/commit`;
    expect((await call(s.url, 'POST', commit)).status).toBe(200);
    expect((await settled(s.url, '/v1/packages/ev/svc/versions/1')).body.state).toBe('available');
    await s.whenIdle();
    expect((await call(s.url, 'POST', commit)).status).toBe(200); // a retried commit: no second event
    const promoted = await call(s.url, 'POST', '/v1/packages/ev/svc/versions/1/promote', { stage: 'prod' });
    expect(promoted.status).toBe(200);

    await s.whenIdle();

    // The bus does not order events (the relay puts publish and promote, the scan worker the verdict).
    const events = byType(await receive(3));
    expect(events.map((e) => [e.source, e['detail-type']])).toEqual([
      ['arca', EVENT_TYPES.available],
      ['arca', EVENT_TYPES.promoted],
      ['arca', EVENT_TYPES.published],
    ]);
    expect(events[2].detail).toMatchObject({
      specversion: '1.0',
      source: 'arca',
      type: EVENT_TYPES.published,
      subject: 'ev/svc@1',
      arcanamespace: 'ev',
      data: { namespace: 'ev', package: 'svc', version: '1', uploadId: created.body.uploadId },
    });
    expect(events[1].detail.data).toMatchObject({ stage: 'prod', previousVersion: null });
    expect(new Set(events.map((e) => e.detail.id)).size).toBe(3);
    // Nothing else arrives: the retried commit was deduplicated.
    expect(await receive(4, 10)).toHaveLength(3);
  });

  it('answers a promotion whose event the bus refuses, and puts the event once the bus takes it (defect: the API answered 500 after storing the change, and the event was lost)', async () => {
    const files = { 'a.bin': content('eb2') };
    const created = await createUpload(s.url, { namespace: 'ev', package: 'svc', version: '2', files });
    await uploadAll(created, files);
    expect((await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`)).status).toBe(200);
    await s.whenIdle();
    const before = (await receive(received.length + 2)).length;
    const { eventBridge } = motoClients();
    await eventBridge.send(new DeleteEventBusCommand({ Name: bus }));
    try {
      const promoted = await call(s.url, 'POST', '/v1/packages/ev/svc/versions/2/promote', { stage: 'dev' });
      expect(promoted.status).toBe(200);
      expect((await call(s.url, 'GET', '/v1/packages/ev/svc/stages/dev')).body.version).toBe('2');
      await expect(s.whenIdle()).rejects.toThrow(/events handler failed/);
    } finally {
      await recreateBus();
    }
    await s.whenIdle();

    const events = await receive(before + 1);
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)).toMatchObject({
      'detail-type': EVENT_TYPES.promoted,
      detail: { subject: 'ev/svc@2', data: { stage: 'dev' } },
    });
  });
});

const byType = (events: any[]) =>
  [...events].sort((a, b) => a['detail-type'].localeCompare(b['detail-type']));
