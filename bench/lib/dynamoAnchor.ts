import { randomUUID } from 'node:crypto';
import { DynamoDBClient, type TransactWriteItem, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { Moto } from './moto.ts';

/**
 * The raw-DynamoDB anchor on moto: one TransactWriteItems sent to Arca's own table. moto copies the
 * whole table once per transaction item, so a round trip costs more as the table grows and as the
 * transaction grows: taking it on the same table, between Arca's publishes, and with a stated number
 * of items keeps the figures comparable.
 */
export class TransactAnchor {
  private readonly db: DynamoDBClient;

  constructor(
    moto: Moto,
    private readonly table: string,
  ) {
    this.db = new DynamoDBClient({
      endpoint: moto.endpoint,
      region: moto.env['AWS_REGION'],
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  }

  /**
   * One round trip, in ms, of a transaction of `items` writes shaped like a commit's: a conditional
   * Put of a new item, plain Puts, and an Update that adds to a counter.
   */
  async transact(items: number): Promise<number> {
    const pk = { S: `BENCH#${randomUUID()}` };
    const writes: TransactWriteItem[] = Array.from({ length: items }, (_, i) => {
      const Item = { pk, sk: { S: `ITEM#${i}` }, kind: { S: 'bench' } };
      if (i === 0)
        return { Put: { TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(pk)' } };
      if (i === items - 1 && items > 2) {
        return {
          Update: {
            TableName: this.table,
            Key: { pk, sk: Item.sk },
            UpdateExpression: 'ADD refcount :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
          },
        };
      }
      return { Put: { TableName: this.table, Item } };
    });
    const started = performance.now();
    await this.db.send(new TransactWriteItemsCommand({ TransactItems: writes }));
    return performance.now() - started;
  }

  close(): void {
    this.db.destroy();
  }
}
