import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { provision } from '../../functions/adapters/aws/provision.ts';
import { INDEX_NAMES, TABLE_SCHEMA } from '../../functions/config/resources.ts';
import { describeCatalogIndexContract } from '../contract/catalogIndexContract.ts';
import { describeIndexContract } from '../contract/indexContract.ts';
import { describeLifecycleIndexContract } from '../contract/lifecycleIndexContract.ts';
import { motoClients, noWait } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

let counter = 0;

/**
 * The index on a table created before the minimal projections: its `gsi1` and `gsi2` project ALL, as
 * a store deployed earlier keeps them (`indexLayout: 'all'`), and the index is told to query those.
 * The provisioner leaves an existing table as it is.
 */
const dynamoDbIndexOnAllProjections = async () => {
  const clients = motoClients();
  const name = `arca-all-${process.pid}-${++counter}`;
  const keys = [
    TABLE_SCHEMA.partitionKey,
    TABLE_SCHEMA.sortKey,
    ...TABLE_SCHEMA.globalIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
  ];
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: TABLE_SCHEMA.globalIndexes.map((g) => ({
        IndexName: INDEX_NAMES.all[g.name],
        KeySchema: [
          { AttributeName: g.partitionKey, KeyType: 'HASH' },
          { AttributeName: g.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  const resources = await provision(clients, { bucket: name, table: name, scanQueue: name });
  const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
  expect(Table!.GlobalSecondaryIndexes!.map((g) => g.Projection?.ProjectionType)).toEqual(['ALL', 'ALL']);
  const index = new DynamoDbIndex({
    dynamodb: clients.dynamodb,
    table: resources.table,
    retry: noWait,
    indexes: INDEX_NAMES.all,
  });
  return { index, close: async () => undefined };
};

describeIndexContract('DynamoDbIndex on moto, GSIs projecting ALL', dynamoDbIndexOnAllProjections);

describeLifecycleIndexContract('DynamoDbIndex on moto, GSIs projecting ALL', dynamoDbIndexOnAllProjections);

describeCatalogIndexContract('DynamoDbIndex on moto, GSIs projecting ALL', dynamoDbIndexOnAllProjections);
