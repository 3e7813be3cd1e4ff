import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetBucketNotificationConfigurationCommand, GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { provision, resourceNames } from '../../functions/adapters/aws/provision.ts';
import {
  DEFAULT_NAMES,
  INDEX_NAMES,
  QUEUE_SETTINGS,
  TABLE_SCHEMA,
} from '../../functions/config/resources.ts';
import { motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

const moto = useMoto();

describe('provision', () => {
  it('creates the bucket, table, queue and DLQ as resources.ts describes them, and a second run changes nothing', async () => {
    await moto.reset();
    const clients = motoClients();
    const names = resourceNames({});

    const first = await provision(clients, names);
    const second = await provision(clients, names);

    expect(names).toEqual(DEFAULT_NAMES);
    expect(second).toEqual(first);
    const versioning = await clients.s3.send(new GetBucketVersioningCommand({ Bucket: names.bucket }));
    expect(versioning.Status).toBe('Enabled');
    const notification = await clients.s3.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: names.bucket }),
    );
    expect(notification.QueueConfigurations).toHaveLength(1);
    expect(notification.QueueConfigurations![0]).toMatchObject({
      QueueArn: first.scanQueueArn,
      Events: ['s3:ObjectCreated:*'],
      Filter: { Key: { FilterRules: [{ Name: expect.stringMatching(/^prefix$/i), Value: 'staging/' }] } },
    });
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table }));
    expect(Table!.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table!.GlobalSecondaryIndexes!.map((g) => g.IndexName).sort()).toEqual(
      TABLE_SCHEMA.globalIndexes.map((g) => INDEX_NAMES.minimal[g.name]),
    );
    for (const index of TABLE_SCHEMA.globalIndexes)
      expect(
        Table!.GlobalSecondaryIndexes!.find((g) => g.IndexName === INDEX_NAMES.minimal[index.name])!
          .Projection,
      ).toEqual({
        ProjectionType: 'INCLUDE',
        NonKeyAttributes: [...index.projected],
      });
    const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: names.table }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: TABLE_SCHEMA.ttlAttribute,
      TimeToLiveStatus: 'ENABLED',
    });
    const queue = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: first.scanQueueUrl, AttributeNames: ['All'] }),
    );
    expect(queue.Attributes!.VisibilityTimeout).toBe(String(QUEUE_SETTINGS.visibilityTimeoutSeconds));
    expect(JSON.parse(queue.Attributes!.RedrivePolicy!)).toMatchObject({
      deadLetterTargetArn: expect.stringMatching(/:arca-scan-dlq$/),
      maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount,
    });
    const dlq = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: `${names.scanQueue}-dlq` }));
    expect(dlq.QueueUrl).toBeDefined();
  });

  it('takes its names from ARCA_BUCKET, ARCA_TABLE and ARCA_SCAN_QUEUE', () => {
    const names = resourceNames({ ARCA_BUCKET: 'b-1', ARCA_TABLE: 't-1', ARCA_SCAN_QUEUE: 'q-1' });

    expect(names).toEqual({ bucket: 'b-1', table: 't-1', scanQueue: 'q-1' });
  });
  it('gives the table a stream of new images when events are relayed, also to a table made before without one', async () => {
    await moto.reset();
    const clients = motoClients();
    const names = resourceNames({});
    const streamOf = async () =>
      (await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table }))).Table!
        .StreamSpecification;

    await provision(clients, names);
    expect((await streamOf())?.StreamEnabled ?? false).toBe(false);
    await provision(clients, names, { stream: true });
    expect(await streamOf()).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });

    await moto.reset();
    await provision(clients, names, { stream: true });
    expect(await streamOf()).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
  });
});
