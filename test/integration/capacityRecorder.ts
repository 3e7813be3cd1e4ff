import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AwsClients } from '../../functions/adapters/aws/clients.ts';
import { INDEX_NAMES, TABLE_SCHEMA } from '../../functions/config/resources.ts';

/**
 * What one request did to the table, as DynamoDB bills and partitions it: items read or written
 * on the base table or a GSI, under which partition key.
 */
export interface Touch {
  readonly kind: 'read' | 'write';
  readonly on: 'table' | 'gsi1' | 'gsi2' | 'scan';
  readonly partition: string;
  readonly items: number;
}

type Attributes = Record<string, unknown>;
type Send = (args: { input: Attributes }) => Promise<{ output: Attributes }>;
interface Stack {
  add(
    middleware: (next: Send, context: { commandName?: string }) => Send,
    options: { step: 'initialize'; name: string },
  ): void;
}

const GSIS = ['gsi1', 'gsi2'] as const;
/** A GSI's role (`gsi1`, `gsi2`) by its name on the table, in either layout. */
const ROLE = new Map<string, Touch['on']>(
  Object.values(INDEX_NAMES).flatMap((names) => GSIS.map((role) => [names[role], role] as const)),
);
/**
 * The attributes whose change rewrites a GSI entry: its keys and what it projects. An update that
 * changes none of them writes nothing to that GSI (DynamoDB copies only projected attributes).
 */
const INDEXED = new Map<string, ReadonlySet<string>>(
  TABLE_SCHEMA.globalIndexes.map((index) => [
    index.name,
    new Set<string>([index.partitionKey, index.sortKey, ...index.projected]),
  ]),
);
const plain = (value: unknown): Attributes => unmarshall(value as never) as Attributes;

/**
 * Records every DynamoDB request `clients.dynamodb` sends, as `Touch`es. An update or delete that
 * REMOVEs an item's GSI keys takes it off the GSI partition it was listed under, which the request
 * does not name: the recorder reads the item first (with a client of its own, not recorded).
 */
export class CapacityRecorder {
  private touches: Touch[] = [];
  private readonly peek: DynamoDBClient;

  constructor(clients: AwsClients, peek: DynamoDBClient) {
    this.peek = peek;
    (clients.dynamodb.middlewareStack as unknown as Stack).add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? '').replace(/Command$/, '');
        const before = await this.listingsBefore(command, args.input);
        const result = await next(args);
        this.touches.push(...touchesOf(command, args.input, result.output, before));
        return result;
      },
      { step: 'initialize', name: 'capacity-recorder' },
    );
  }

  /** Runs `operation` and answers what it alone did to the table. */
  async measure(operation: () => Promise<unknown>): Promise<Touch[]> {
    this.touches = [];
    await operation();
    const measured = this.touches;
    this.touches = [];
    return measured;
  }

  /** The GSI partitions of the items a write may take off their lists, by `pk|sk`. */
  private async listingsBefore(command: string, input: Attributes): Promise<Map<string, string[]>> {
    const writes: { table: string; key: Attributes }[] = [];
    if (command === 'UpdateItem' || command === 'DeleteItem') {
      writes.push({ table: input.TableName as string, key: input.Key as Attributes });
    } else if (command === 'TransactWriteItems') {
      for (const entry of input.TransactItems as Attributes[]) {
        const change = (entry.Update ?? entry.Delete) as Attributes | undefined;
        if (change) writes.push({ table: change.TableName as string, key: change.Key as Attributes });
      }
    }
    const listings = new Map<string, string[]>();
    for (const { table, key } of writes) {
      const got = await this.peek.send(
        new GetItemCommand({ TableName: table, Key: key as never, ConsistentRead: true }),
      );
      const item = got.Item ? plain(got.Item) : {};
      listings.set(
        keyOf(plain(key)),
        GSIS.filter((gsi) => typeof item[`${gsi}pk`] === 'string').map((gsi) => `${gsi}:${item[`${gsi}pk`]}`),
      );
    }
    return listings;
  }
}

const keyOf = (key: Attributes): string => `${key.pk}|${key.sk}`;

function touchesOf(
  command: string,
  input: Attributes,
  output: Attributes,
  before: Map<string, string[]>,
): Touch[] {
  const read = (partition: string, on: Touch['on'] = 'table', items = 1): Touch => ({
    kind: 'read',
    on,
    partition,
    items,
  });
  switch (command) {
    case 'GetItem':
      return [read(plain(input.Key).pk as string)];
    case 'BatchGetItem':
      return Object.values(input.RequestItems as Record<string, { Keys: Attributes[] }>).flatMap(({ Keys }) =>
        Keys.map((key) => read(plain(key).pk as string)),
      );
    case 'TransactGetItems':
      return (input.TransactItems as { Get: Attributes }[]).map(({ Get }) =>
        read(plain(Get.Key).pk as string),
      );
    case 'Query': {
      const on = input.IndexName === undefined ? 'table' : ROLE.get(input.IndexName as string)!;
      const variable = /= (:\w+)/.exec(input.KeyConditionExpression as string)?.[1] ?? '';
      const partition = plain(input.ExpressionAttributeValues)[variable] as string;
      return [read(partition, on, (output.ScannedCount as number | undefined) ?? 0)];
    }
    case 'Scan':
      return [read('*', 'scan', (output.ScannedCount as number | undefined) ?? 0)];
    case 'PutItem':
      return putTouches(plain(input.Item));
    case 'UpdateItem':
    case 'DeleteItem':
      return changeTouches(command === 'DeleteItem' ? {} : input, plain(input.Key), before);
    case 'BatchWriteItem':
      return Object.values(input.RequestItems as Record<string, Attributes[]>).flatMap((requests) =>
        requests.flatMap((request) =>
          request.PutRequest
            ? putTouches(plain((request.PutRequest as Attributes).Item))
            : [write(plain((request.DeleteRequest as Attributes).Key).pk as string)],
        ),
      );
    case 'TransactWriteItems':
      return (input.TransactItems as Attributes[]).flatMap((entry) => {
        if (entry.Put) return putTouches(plain((entry.Put as Attributes).Item));
        if (entry.ConditionCheck) return [read(plain((entry.ConditionCheck as Attributes).Key).pk as string)];
        const change = (entry.Update ?? entry.Delete) as Attributes;
        return changeTouches(entry.Update ? change : {}, plain(change.Key), before);
      });
    default:
      return [];
  }
}

const write = (partition: string, on: Touch['on'] = 'table'): Touch => ({
  kind: 'write',
  on,
  partition,
  items: 1,
});

function putTouches(item: Attributes): Touch[] {
  return [
    write(item.pk as string),
    ...GSIS.filter((gsi) => typeof item[`${gsi}pk`] === 'string').map((gsi) =>
      write(item[`${gsi}pk`] as string, gsi),
    ),
  ];
}

/**
 * An update (or delete, with no expression) writes its item, every GSI partition it lists the item
 * under (`#gsiNpk = :value`), and every GSI partition the item was listed under before whose entry
 * it changes: a delete always, an update when it sets or removes a key or projected attribute of
 * that GSI (a top-level `#name`; a nested path like `#files[0].#verdict` changes `files`).
 */
function changeTouches(update: Attributes, key: Attributes, before: Map<string, string[]>): Touch[] {
  const expression = (update.UpdateExpression as string | undefined) ?? '';
  const values = update.ExpressionAttributeValues ? plain(update.ExpressionAttributeValues) : {};
  const names = (update.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const changed = new Set(
    (expression.match(/(?<![.\]\w])#\w+/g) ?? []).map((token) => names[token] ?? token),
  );
  const isDelete = update.UpdateExpression === undefined;
  const rewrites = (gsi: string) =>
    isDelete || [...(INDEXED.get(gsi) ?? [])].some((name) => changed.has(name));
  const listed = GSIS.flatMap((gsi) => {
    const variable = new RegExp(`#${gsi}pk = (:\\w+)`).exec(expression)?.[1];
    return variable ? [`${gsi}:${values[variable]}`] : [];
  });
  const rewritten = (before.get(keyOf(key)) ?? []).filter((entry) => rewrites(entry.split(':')[0]!));
  const gsiTouches = [...new Set([...rewritten, ...listed])].map((entry) => {
    const [gsi, ...partition] = entry.split(':');
    return write(partition.join(':'), gsi as Touch['on']);
  });
  return [write(key.pk as string), ...gsiTouches];
}

/** Totals of a measurement: items read and written, and the distinct partitions written. */
export function summarize(touches: readonly Touch[]) {
  const sum = (kind: Touch['kind']) =>
    touches.filter((t) => t.kind === kind).reduce((n, t) => n + t.items, 0);
  const partitions = (kind: Touch['kind']) =>
    [...new Set(touches.filter((t) => t.kind === kind).map((t) => `${t.on}:${generic(t.partition)}`))].sort();
  return {
    itemsRead: sum('read'),
    itemsWritten: sum('write'),
    read: partitions('read'),
    written: partitions('write'),
  };
}

/**
 * A partition key with its instance values replaced by their role, so one publish's model reads
 * like the next: `SESSION#01J…` → `SESSION#<uploadId>`, `BLOB#ab…` → `BLOB#<sha256>`.
 */
export function generic(partition: string): string {
  return partition
    .replace(/^SESSION#[0-9A-Z]{26}$/, 'SESSION#<uploadId>')
    .replace(/^BLOB#[0-9a-f]{64}$/, 'BLOB#<sha256>')
    .replace(/^BLOBREF#[0-9a-f]{64}$/, 'BLOBREF#<sha256>')
    .replace(/^LEASE#[0-9A-Z]{26}$/, 'LEASE#<leaseId>')
    .replace(/#[0-9a-f]$/, '#<shard>');
}
