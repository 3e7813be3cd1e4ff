import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { toAttributes } from './dynamoDbExpression.ts';
import type { Item } from './dynamoDbItems.ts';
import { backOff, type RetryOptions, withRetry } from './dynamoDbRetry.ts';

/** BatchGetItem's per-request key limit. */
const BATCH_GET = 100;

/** One cancelled item of a transaction, by position: its reason code and, when asked, its old image. */
export interface CancellationReason {
  readonly code: string;
  readonly item?: Item;
}

/**
 * The table as the index uses it: strongly consistent reads, transactions, and every call retried on
 * throttling and contention. Items go in and come out as plain objects.
 */
export class DynamoTable {
  constructor(
    private readonly db: DynamoDBClient,
    readonly name: string,
    private readonly retry: RetryOptions = {},
  ) {}

  async get(key: Item): Promise<Item | null> {
    const res = await withRetry(
      () =>
        this.db.send(
          new GetItemCommand({ TableName: this.name, Key: toAttributes(key), ConsistentRead: true }),
        ),
      this.retry,
    );
    return res.Item ? unmarshall(res.Item) : null;
  }

  /** Reads many items; order is not kept and absent ones are simply missing. */
  async getMany(keys: readonly Item[]): Promise<Item[]> {
    const found: Item[] = [];
    for (let at = 0; at < keys.length; at += BATCH_GET) {
      let pending = keys.slice(at, at + BATCH_GET).map(toAttributes);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const batch = pending;
        const res = await withRetry(
          () =>
            this.db.send(
              new BatchGetItemCommand({
                RequestItems: { [this.name]: { Keys: batch, ConsistentRead: true } },
              }),
            ),
          this.retry,
        );
        found.push(...(res.Responses?.[this.name] ?? []).map((i) => unmarshall(i)));
        pending = res.UnprocessedKeys?.[this.name]?.Keys ?? [];
        // Unprocessed keys are DynamoDB shedding load: wait like any other throttle before asking again.
        if (pending.length > 0) await backOff(attempt, this.retry);
      }
    }
    return found;
  }

  async query(input: Omit<QueryCommandInput, 'TableName'>) {
    const res = await withRetry(
      () => this.db.send(new QueryCommand({ ...input, TableName: this.name })),
      this.retry,
    );
    return {
      items: (res.Items ?? []).map((i) => unmarshall(i)),
      lastKey: res.LastEvaluatedKey ? unmarshall(res.LastEvaluatedKey) : undefined,
    };
  }

  /**
   * Runs one transaction (its items name this table). When a condition fails, answers the per-item reasons (in the order of
   * `items`) instead of throwing, so callers map each position to its domain error.
   */
  async transact(items: readonly TransactWriteItem[]): Promise<CancellationReason[] | null> {
    try {
      await withRetry(
        () => this.db.send(new TransactWriteItemsCommand({ TransactItems: [...items] })),
        this.retry,
      );
      return null;
    } catch (error) {
      const reasons = conditionFailures(error);
      if (!reasons) throw error;
      return reasons;
    }
  }
}

function conditionFailures(error: unknown): CancellationReason[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const raw = (error as { CancellationReasons?: { Code?: string; Item?: Record<string, never> }[] })
    .CancellationReasons;
  if (!raw?.some((r) => r.Code === 'ConditionalCheckFailed')) return undefined;
  return raw.map((r) => ({ code: r.Code ?? 'None', ...(r.Item ? { item: unmarshall(r.Item) } : {}) }));
}
