import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshResources, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const ROUNDS = 40;

/** Each round: a transaction moto cancels (its condition fails) racing a plain put of a new item. */
async function raceCancelledTransactionsWithPuts(dynamodb: DynamoDBClient, table: string): Promise<number> {
  // A few thousand items make moto's whole-table snapshot slow enough for the writes to overlap.
  for (let batch = 0; batch < 80; batch++) {
    const items = Array.from({ length: 25 }, (_, i) => ({
      PutRequest: {
        Item: { pk: { S: `filler#${batch}#${i}` }, sk: { S: 'x' }, pad: { S: 'p'.repeat(200) } },
      },
    }));
    await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));
  }
  await Promise.all(
    Array.from({ length: ROUNDS }, async (_, round) => {
      const cancelled = dynamodb
        .send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: table, Item: { pk: { S: `other#${round}` }, sk: { S: 'x' } } } },
              {
                ConditionCheck: {
                  TableName: table,
                  Key: { pk: { S: 'absent' }, sk: { S: 'x' } },
                  ConditionExpression: 'attribute_exists(pk)',
                },
              },
            ],
          }),
        )
        .catch((error: Error) => expect(error.name).toBe('TransactionCanceledException'));
      const put = dynamodb.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: `kept#${round}` }, sk: { S: 'x' } } }),
      );
      await Promise.all([cancelled, put]);
    }),
  );
  let kept = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const got = await dynamodb.send(
      new GetItemCommand({
        TableName: table,
        Key: { pk: { S: `kept#${round}` }, sk: { S: 'x' } },
        ConsistentRead: true,
      }),
    );
    if (got.Item) kept++;
  }
  return kept;
}

describe('DynamoDB writes to an emulator', () => {
  it('never lose an acknowledged write to a transaction the emulator cancels at the same time', async () => {
    const clients = motoClients();
    const { table } = await freshResources(clients);

    expect(await raceCancelledTransactionsWithPuts(clients.dynamodb, table)).toBe(ROUNDS);
  });
});
