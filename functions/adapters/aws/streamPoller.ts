import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export interface StreamPollerOptions {
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly table: string;
  /** The events handler, as Lambda's DynamoDB event source mapping would call it. */
  readonly handle: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
  /** Pause between two reads that found nothing, ms (default 500). */
  readonly idleMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Lambda's DynamoDB stream event source mapping, in-process, for the local server with the AWS
 * backend (and the tests on moto): read each shard from its start, hand batches to the handler in
 * order, and on a reported failure read again from the failed record (what Lambda does with
 * `ReportBatchItemFailures`), so nothing after it is handled first.
 */
export class StreamPoller {
  /** Per shard: where the next read starts (a sequence number), or undefined for its start. */
  private readonly positions = new Map<string, string | undefined>();
  /** The table's stream, looked up once: it changes only if the stream is turned off and on again. */
  private streamArn: string | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly options: StreamPollerOptions) {}

  /** Reads every shard until it holds nothing new; answers how many records were handled. */
  async drain(): Promise<number> {
    this.streamArn ??= await this.latestStreamArn();
    const streamArn = this.streamArn;
    const { StreamDescription } = await this.options.streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn }),
    );
    let handled = 0;
    for (const shard of StreamDescription?.Shards ?? [])
      handled += await this.drainShard(streamArn, shard.ShardId!);
    return handled;
  }

  private async latestStreamArn(): Promise<string> {
    const { table, dynamodb } = this.options;
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    if (!Table?.LatestStreamArn) throw new Error(`table ${table} has no stream to relay events from`);
    return Table.LatestStreamArn;
  }

  /** Drains until stop(); an error is reported and draining goes on after a pause. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        let handled = 0;
        try {
          handled = await this.drain();
        } catch (error) {
          if (!this.stopping) this.options.onError?.(error);
        }
        if (handled === 0 && !this.stopping)
          await new Promise((r) => setTimeout(r, this.options.idleMs ?? 500));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = undefined;
  }

  private async drainShard(streamArn: string, shardId: string): Promise<number> {
    const { streams } = this.options;
    const after = this.positions.get(shardId);
    let { ShardIterator: iterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(after === undefined
          ? { ShardIteratorType: 'TRIM_HORIZON' }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }),
      }),
    );
    let handled = 0;
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
      const records = page.Records ?? [];
      if (records.length === 0) break;
      const { batchItemFailures } = await this.options.handle({ Records: records.map(lambdaRecord) });
      const failed = batchItemFailures[0]?.itemIdentifier;
      const done =
        failed === undefined
          ? records
          : records.slice(
              0,
              records.findIndex((r) => r.dynamodb?.SequenceNumber === failed),
            );
      handled += done.length;
      const last = done.at(-1)?.dynamodb?.SequenceNumber;
      if (last !== undefined) this.positions.set(shardId, last);
      if (failed !== undefined)
        throw new Error(`the events handler failed at stream record ${failed}; it is read again next`);
      iterator = page.NextShardIterator;
    }
    return handled;
  }
}

/** A stream record as Lambda hands it over: the same fields, attribute values as the wire has them. */
function lambdaRecord(record: StreamRecord): DynamoDBRecord {
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: record.dynamodb as DynamoDBRecord['dynamodb'],
  };
}
