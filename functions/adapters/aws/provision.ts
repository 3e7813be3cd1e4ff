import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../config/env.ts';
import {
  BUCKET_LAYOUT,
  DEFAULT_NAMES,
  INDEX_NAMES,
  QUEUE_SETTINGS,
  TABLE_SCHEMA,
} from '../../config/resources.ts';
import type { AwsClients } from './clients.ts';

export interface ResourceNames {
  readonly bucket: string;
  readonly table: string;
  readonly scanQueue: string;
}

export interface ProvisionedResources extends ResourceNames {
  readonly scanQueueUrl: string;
  readonly scanQueueArn: string;
}

/** The names in use: `ARCA_BUCKET`, `ARCA_TABLE`, `ARCA_SCAN_QUEUE`, else the defaults of resources.ts. */
export function resourceNames(env: NodeJS.ProcessEnv = process.env): ResourceNames {
  return {
    bucket: env[ENV.bucket] || DEFAULT_NAMES.bucket,
    table: env[ENV.table] || DEFAULT_NAMES.table,
    scanQueue: env[ENV.scanQueue] || DEFAULT_NAMES.scanQueue,
  };
}

/** The stream the stack's table has: the events relay reads the audit records it inserts. */
const NEW_IMAGE_STREAM = { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } as const;

export interface ProvisionOptions {
  /**
   * Give a table created now a stream of new images, as the stack's table has, for the events relay.
   * Off by default: an emulator keeps stream records with the table (moto copies them on every
   * transaction), and only a store with an event bus reads them.
   */
  readonly stream?: boolean;
}

/**
 * Creates what the CDK stack would, for an emulator: the bucket (versioned, `staging/` creations
 * notifying the scan queue), the table, and the queue with its DLQ. Safe to run on every start: each
 * step leaves an existing resource as it is and only fills in what is missing.
 */
export async function provision(
  clients: AwsClients,
  names: ResourceNames,
  options: ProvisionOptions = {},
): Promise<ProvisionedResources> {
  const [queue] = await Promise.all([
    provisionQueues(clients.sqs, names.scanQueue),
    provisionTable(clients.dynamodb, names.table, options.stream ?? false),
  ]);
  await provisionBucket(clients.s3, names.bucket, queue.arn);
  return { ...names, scanQueueUrl: queue.url, scanQueueArn: queue.arn };
}

async function provisionQueues(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const dlq = await createQueue(sqs, `${name}${QUEUE_SETTINGS.dlqSuffix}`, {
    MessageRetentionPeriod: String(QUEUE_SETTINGS.dlqRetentionDays * 86_400),
  });
  return createQueue(sqs, name, {
    VisibilityTimeout: String(QUEUE_SETTINGS.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount,
    }),
  });
}

/** CreateQueue is idempotent when the attributes match, which they do on every run of this script. */
async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function provisionBucket(s3: S3Client, bucket: string, queueArn: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!(error instanceof Error) || !['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(error.name))
      throw error;
  }
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  // Setting the notification again would make S3 send another test event to the queue.
  const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  const configured = current.QueueConfigurations?.some(
    (q) =>
      q.QueueArn === queueArn &&
      q.Filter?.Key?.FilterRules?.some((r) => r.Value === BUCKET_LAYOUT.stagingPrefix) === true,
  );
  if (configured) return;
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Id: 'arca-scan-staged',
            QueueArn: queueArn,
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: BUCKET_LAYOUT.stagingPrefix }] } },
          },
        ],
      },
    }),
  );
}

/**
 * The table as CreateTable takes it: keys, and the GSIs of `layout` (the minimal projections, or
 * `all` as a store created before them keeps its gsi1/gsi2).
 */
export function tableDefinition(table: string, layout: keyof typeof INDEX_NAMES = 'minimal', stream = false) {
  const keys = [
    TABLE_SCHEMA.partitionKey,
    TABLE_SCHEMA.sortKey,
    ...TABLE_SCHEMA.globalIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
  ];
  const attributes: AttributeDefinition[] = keys.map((AttributeName) => ({
    AttributeName,
    AttributeType: 'S',
  }));
  return new CreateTableCommand({
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributes,
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: TABLE_SCHEMA.globalIndexes.map((g) => ({
      IndexName: INDEX_NAMES[layout][g.name],
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection:
        layout === 'all'
          ? { ProjectionType: 'ALL' }
          : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...g.projected] },
    })),
    ...(stream ? { StreamSpecification: NEW_IMAGE_STREAM } : {}),
  });
}

async function provisionTable(dynamodb: DynamoDBClient, table: string, stream: boolean): Promise<void> {
  const existing = await describeTable(dynamodb, table);
  if (!existing) {
    try {
      await dynamodb.send(tableDefinition(table, 'minimal', stream));
    } catch (error) {
      // Another process provisioning at the same moment created it first.
      if (!(error instanceof Error) || error.name !== 'ResourceInUseException') throw error;
    }
    await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: table });
  } else if (stream && !existing.StreamSpecification?.StreamEnabled) {
    await dynamodb.send(
      new UpdateTableCommand({
        TableName: table,
        StreamSpecification: NEW_IMAGE_STREAM,
      }),
    );
  }
  await dynamodb
    .send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
      }),
    )
    .catch((error: unknown) => {
      // DynamoDB refuses to "enable" TTL that is already enabled.
      if (!(error instanceof Error) || !/already enabled/i.test(error.message)) throw error;
    });
}

/** The table's description, or undefined when there is no such table. */
async function describeTable(dynamodb: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
