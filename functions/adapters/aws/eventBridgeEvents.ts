import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { TABLE_SCHEMA } from '../../config/resources.ts';
import type { StoreEvent } from '../../core/events.ts';
import type { EventPort, MetricsPort } from '../../ports.ts';

/** How long a sent event's marker is kept: far past any retry of the change it records. */
const MARKER_TTL_SECONDS = 7 * 86_400;

export interface EventBridgeEventsOptions {
  readonly eventBridge: EventBridgeClient;
  /** The stack's bus (name or ARN). */
  readonly bus: string;
  readonly dynamodb: DynamoDBClient;
  readonly table: string;
  readonly metrics?: MetricsPort;
}

/**
 * The event port on AWS: each event is put on the stack's bus with `Source` `arca`, `DetailType` its
 * CloudEvents type and `Detail` the whole CloudEvents document. A marker item (`event#<id>`) records a
 * sent id, so a retried change (a commit retried after a lost answer) is not sent again; the marker is
 * written only once the bus accepted the event, so an event whose put failed goes out on the retry.
 */
export class EventBridgeEvents implements EventPort {
  constructor(private readonly options: EventBridgeEventsOptions) {}

  async emit(event: StoreEvent): Promise<void> {
    const { dynamodb, table, bus, eventBridge } = this.options;
    const key = {
      [TABLE_SCHEMA.partitionKey]: { S: `event#${event.id}` },
      [TABLE_SCHEMA.sortKey]: { S: 'event' },
    };
    const seen = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }),
    );
    if (seen.Item) return;
    const answer = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: bus,
            Source: event.source,
            DetailType: event.type,
            Detail: JSON.stringify(event),
            Time: new Date(event.time),
          },
        ],
      }),
    );
    if ((answer.FailedEntryCount ?? 0) > 0) {
      throw new Error(
        `EventBridge refused event ${event.id}: ${answer.Entries?.[0]?.ErrorMessage ?? 'unknown'}`,
      );
    }
    this.options.metrics?.count('events', { type: event.type });
    const ttl = Math.floor(Date.now() / 1000) + MARKER_TTL_SECONDS;
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key, type: { S: event.type }, [TABLE_SCHEMA.ttlAttribute]: { N: String(ttl) } },
      }),
    );
  }
}
