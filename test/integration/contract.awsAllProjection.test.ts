import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { provision, tableDefinition } from '../../functions/adapters/aws/provision.ts';
import { INDEX_NAMES } from '../../functions/config/resources.ts';
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
  await clients.dynamodb.send(tableDefinition(name, 'all'));
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
