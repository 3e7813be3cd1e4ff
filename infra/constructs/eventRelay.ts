import { Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';
import type { StoreEventBus } from './eventBus.ts';
import { ArcaFunction, handlerEntry } from './functions.ts';
import type { IndexTable } from './indexTable.ts';

export interface StoreEventRelayProps {
  readonly index: IndexTable;
  /** The table's stream (new images at least). */
  readonly streamArn: string;
  readonly bus: StoreEventBus;
  /** Named in the function's environment, as every function's (no access is granted). */
  readonly bucketName: string;
}

/**
 * The events of audited changes (publish, promote, lease), put on the bus from the table's stream: a
 * change and its audit record are one transaction, so every stored change reaches the bus, and a bus
 * that refuses a put delays events instead of failing the request (the API does not emit). Records
 * are read in order; a failed one is retried (later ones wait) for a day, then its position goes to
 * the dead-letter queue, whose depth is alarmed on.
 */
export class StoreEventRelay extends Construct {
  public readonly function: ArcaFunction;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: StoreEventRelayProps) {
    super(scope, id);
    this.function = new ArcaFunction(this, 'Function', {
      entry: handlerEntry('events'),
      description: 'Arca events: audit records on the table stream → the event bus',
      timeout: Duration.seconds(60),
      memorySize: 256,
    });
    props.index.grantIndexReadWrite(this.function); // reads the version described; writes sent markers
    props.index.table.grantStreamRead(this.function);
    this.function.addEnvironment(ENV.bucket, props.bucketName);
    props.bus.grantEmit(this.function);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the events relay; its depth is alarmed on.',
    });
    this.function.addEventSourceMapping('TableStream', {
      eventSourceArn: props.streamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
      retryAttempts: 10_000,
      maxRecordAge: Duration.days(1),
      onFailure: new SqsDlq(this.deadLetterQueue),
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { NewImage: { kind: { S: lambda.FilterRule.isEqual('audit') } } },
        }),
      ],
    });
  }
}
