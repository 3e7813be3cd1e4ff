import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { lazyAwsDeps } from '../adapters/aws/deps.ts';
import { auditOf } from '../adapters/aws/dynamoDbItems.ts';
import type { CoreDeps } from '../core/deps.ts';
import { emitAuditedEvent } from '../core/eventRelay.ts';
import type { AuditEvent } from '../ports.ts';

/** The audit record a stream record inserted, if it inserted one. */
export function auditRecordOf(record: DynamoDBRecord): AuditEvent | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || image?.kind?.S !== 'audit') return undefined;
  // Lambda's and the SDK's types describe the same wire attribute values.
  return auditOf(unmarshall(image as Record<string, AttributeValue>));
}

export interface EventsHandlerOptions {
  readonly logger?: Logger;
}

/**
 * The table's stream → the stack's bus: every audit record inserted (a change and its audit record
 * are one transaction) has its event rebuilt and put, in stream order. The API does not emit, so a
 * bus that refuses an event never turns a stored change into a failed request: the record is
 * reported failed, and Lambda retries from it (the records after it wait, keeping order). An event
 * already sent (a retried batch, or GC's own put of a deletion) is dropped by its marker.
 */
export function createHandler(deps: CoreDeps | (() => CoreDeps), options: EventsHandlerOptions = {}) {
  const logger = options.logger ?? new Logger({ serviceName: 'arca-events' });
  const relay = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const given = typeof deps === 'function' ? deps() : deps;
    const { events } = given;
    if (!events) throw new Error('the events function has no bus to put events on (ARCA_EVENT_BUS)');
    for (const record of event.Records) {
      const audit = auditRecordOf(record);
      if (!audit) continue;
      try {
        await emitAuditedEvent({ ...given, events }, audit);
      } catch (error) {
        logger.error('event not put; retried from this record', {
          action: audit.action,
          target: audit.target,
          error: (error as Error).message,
        });
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
      }
    }
    return { batchItemFailures: [] };
  };
  return middy(relay).use(injectLambdaContext(logger));
}

export const handler = createHandler(lazyAwsDeps());
