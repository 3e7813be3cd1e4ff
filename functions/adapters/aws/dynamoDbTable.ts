import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  TransactGetItemsCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { INDEX_NAMES, type IndexNames } from '../../config/resources.ts';
import { toAttributes } from './dynamoDbExpression.ts';
import type { Item } from './dynamoDbItems.ts';
import { backOff, type RetryOptions, withRetry } from './dynamoDbRetry.ts';

/** BatchGetItem's per-request key limit. */
const BATCH_GET = 100;
/** BatchWriteItem's per-request item limit. */
const BATCH_WRITE = 25;

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
    /** The GSIs' names on this table (`INDEX_NAMES`). */
    readonly indexes: IndexNames = INDEX_NAMES.minimal,
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

  /** Writes one item with no condition: an append-only record whose key is unique (an audit event). */
  async put(item: Item): Promise<void> {
    await withRetry(
      () => this.db.send(new PutItemCommand({ TableName: this.name, Item: toAttributes(item) })),
      this.retry,
    );
  }

  /**
   * Reads up to 100 items as one serializable snapshot (TransactGetItems): no transaction is seen
   * half applied across them, as it may be by a Query or BatchGetItem. Absent items are null, in
   * the order of `keys`.
   */
  async transactGet(keys: readonly Item[]): Promise<(Item | null)[]> {
    const res = await withRetry(
      () =>
        this.db.send(
          new TransactGetItemsCommand({
            TransactItems: keys.map((key) => ({ Get: { TableName: this.name, Key: toAttributes(key) } })),
          }),
        ),
      this.retry,
    );
    return (res.Responses ?? []).map((r) => (r.Item ? unmarshall(r.Item) : null));
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

  /**
   * The table's items behind GSI entries, read consistently by their `pk`/`sk`, in the entries' order.
   * A GSI projects only small attributes, so a reader that answers whole items reads them here; an
   * entry whose item is gone by now (the index lags the table) is dropped, not an error.
   */
  async getListed(entries: readonly Item[]): Promise<Item[]> {
    const keyOf = (item: Item) => JSON.stringify([item.pk, item.sk]);
    // BatchGetItem refuses a request that names one key twice.
    const unique = new Map(entries.map((e) => [keyOf(e), { pk: e.pk, sk: e.sk }]));
    const found = new Map((await this.getMany([...unique.values()])).map((item) => [keyOf(item), item]));
    return entries.flatMap((entry): Item[] => {
      const item = found.get(keyOf(entry));
      return item ? [item] : [];
    });
  }

  /**
   * Writes items with no condition, 25 to a request, retrying what DynamoDB left unprocessed: for
   * idempotent items whose key is unique to what they describe (search entries). Not atomic.
   */
  async putMany(items: readonly Item[]): Promise<void> {
    for (let at = 0; at < items.length; at += BATCH_WRITE) {
      let pending: WriteRequest[] = items
        .slice(at, at + BATCH_WRITE)
        .map((item) => ({ PutRequest: { Item: toAttributes(item) } }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const batch = pending;
        const res = await withRetry(
          () => this.db.send(new BatchWriteItemCommand({ RequestItems: { [this.name]: batch } })),
          this.retry,
        );
        pending = res.UnprocessedItems?.[this.name] ?? [];
        if (pending.length > 0) await backOff(attempt, this.retry);
      }
    }
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

  /** Every item a query matches, following its pages. */
  async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.query({
        ...input,
        ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
      });
      items.push(...page.items);
      start = page.lastKey;
    } while (start);
    return items;
  }

  /**
   * The first `limit` entries of a gsi2 work list whose sort key is below `below`, in sort-key order.
   * gsi2 is eventually consistent: callers re-check each entry or write conditionally.
   */
  async workList(list: string, below: string, limit: number): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    while (items.length < limit) {
      const page = await this.query({
        IndexName: this.indexes.gsi2,
        KeyConditionExpression: '#gsi2pk = :list AND #gsi2sk < :below',
        ExpressionAttributeNames: { '#gsi2pk': 'gsi2pk', '#gsi2sk': 'gsi2sk' },
        ExpressionAttributeValues: toAttributes({ ':list': list, ':below': below }),
        Limit: limit - items.length,
        ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
      });
      items.push(...page.items);
      start = page.lastKey;
      if (!start) break;
    }
    return items;
  }

  /**
   * A full walk of the table in `segments` parallel Scan segments, each followed to its last page:
   * the one read that must see everything (an audit log across namespaces) spreads over partitions.
   */
  async scanAll(input: Omit<ScanCommandInput, 'TableName'>, segments = 4): Promise<Item[]> {
    const walk = async (segment: number) => {
      const items: Item[] = [];
      let start: ScanCommandInput['ExclusiveStartKey'];
      do {
        const res = await withRetry(
          () =>
            this.db.send(
              new ScanCommand({
                ...input,
                TableName: this.name,
                Segment: segment,
                TotalSegments: segments,
                ...(start ? { ExclusiveStartKey: start } : {}),
              }),
            ),
          this.retry,
        );
        items.push(...(res.Items ?? []).map((i) => unmarshall(i)));
        start = res.LastEvaluatedKey;
      } while (start);
      return items;
    };
    return (await Promise.all(Array.from({ length: segments }, (_, s) => walk(s)))).flat();
  }

  /**
   * One conditional UpdateItem outside any transaction (half the cost of a one-item transaction);
   * false when its condition failed.
   */
  async update(update: NonNullable<TransactWriteItem['Update']>): Promise<boolean> {
    try {
      await withRetry(() => this.db.send(new UpdateItemCommand(update)), this.retry);
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** One DeleteItem outside any transaction, conditioned as given; false when its condition failed. */
  async delete(input: Omit<DeleteItemCommandInput, 'TableName'>): Promise<boolean> {
    try {
      await withRetry(
        () => this.db.send(new DeleteItemCommand({ ...input, TableName: this.name })),
        this.retry,
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
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
