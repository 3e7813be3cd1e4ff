import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CDN_KEY_METRIC } from '../../functions/adapters/aws/cdnSigningKey.ts';

/** The replication rule the alarm watches (`OperationsFailedReplication` needs all three dimensions). */
export interface ReplicationAlarmTarget {
  readonly sourceBucket: s3.IBucket;
  readonly destinationBucketName: string;
  readonly ruleId: string;
}

export interface StoreAlarmsProps {
  /** Every alarm notifies it. */
  readonly topic: sns.ITopic;
  /** Functions whose throttles alarm (api, scan, gc). */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly scanQueue: sqs.IQueue;
  /** The events relay: its lag behind the table's stream and its dead letters are alarmed on. */
  readonly eventRelay?: { readonly function: lambda.IFunction; readonly deadLetterQueue: sqs.IQueue };
  /**
   * Oldest scan message (seconds) that raises the alarm: more than two 15-minute scans behind.
   * @default 1800
   */
  readonly scanQueueAgeSeconds?: number;
  /** Name of the index table. */
  readonly tableName: string;
  /** @default - no replication alarm */
  readonly replication?: ReplicationAlarmTarget;
  /** @default - no CloudFront alarms */
  readonly distributionId?: string;
  /**
   * Share (percent, 5 minutes) of CloudFront requests answering 5xx that raises the alarm.
   * @default 1
   */
  readonly cdn5xxRatePercent?: number;
}

/**
 * The operational alarms beyond the SLI ones (observability.ts), all notifying `topic`: Lambda
 * throttles, scan backlog age, DynamoDB throttles, replication failures, CloudFront 5xx, and a
 * CloudFront signing key that `api` cannot use (downloads then fall back to S3 presigned URLs).
 */
export class StoreAlarms extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: StoreAlarmsProps) {
    super(scope, id);
    const fiveMinutes = Duration.minutes(5);
    for (const [name, fn] of Object.entries(props.functions))
      this.add(`${name}Throttles`, {
        alarmDescription: `The ${name} function was throttled: the account's or its own concurrency limit is reached.`,
        metric: fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: 0,
      });
    this.add('ScanQueueAge', {
      alarmDescription: 'The oldest staged upload has waited too long for its scan: versions stay pending.',
      metric: props.scanQueue.metricApproximateAgeOfOldestMessage({
        period: fiveMinutes,
        statistic: 'Maximum',
      }),
      threshold: props.scanQueueAgeSeconds ?? 1800,
    });
    if (props.eventRelay) {
      this.add('EventsLag', {
        alarmDescription:
          'The events relay is over 10 minutes behind the table stream: the bus refuses events or the function fails.',
        metric: props.eventRelay.function.metric('IteratorAge', {
          period: fiveMinutes,
          statistic: 'Maximum',
        }),
        threshold: 600_000,
      });
      this.add('EventsDeadLetters', {
        alarmDescription:
          'Events the relay could not put for a day were given up: their positions are in its dead-letter queue.',
        metric: props.eventRelay.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: fiveMinutes,
          statistic: 'Maximum',
        }),
        threshold: 0,
      });
    }
    const dynamo = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: props.tableName },
        statistic: 'Sum',
        period: fiveMinutes,
      });
    this.add('IndexThrottles', {
      alarmDescription:
        'DynamoDB throttled reads or writes of the index (a hot partition or the account limit).',
      metric: new cloudwatch.MathExpression({
        label: 'throttle events',
        expression: 'FILL(r, 0) + FILL(w, 0)',
        usingMetrics: { r: dynamo('ReadThrottleEvents'), w: dynamo('WriteThrottleEvents') },
        period: fiveMinutes,
      }),
      threshold: 0,
    });
    if (props.replication)
      this.add('ReplicationFailures', {
        alarmDescription: 'S3 failed to replicate blobs/ to the replica region: a failover would miss them.',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/S3',
          metricName: 'OperationsFailedReplication',
          dimensionsMap: {
            SourceBucket: props.replication.sourceBucket.bucketName,
            DestinationBucket: props.replication.destinationBucketName,
            RuleId: props.replication.ruleId,
          },
          statistic: 'Sum',
          period: fiveMinutes,
        }),
        threshold: 0,
      });
    if (props.distributionId !== undefined)
      this.cdnAlarms(props.distributionId, props.cdn5xxRatePercent ?? 1);
    for (const alarm of this.alarms) alarm.addAlarmAction(new actions.SnsAction(props.topic));
  }

  private cdnAlarms(distributionId: string, ratePercent: number): void {
    this.add('CdnKeyUnavailable', {
      alarmDescription:
        "The api function has no usable CloudFront signing key (empty, unparsable, or not the key group's): downloads are served as S3 presigned URLs.",
      metric: new cloudwatch.Metric({
        namespace: CDN_KEY_METRIC.namespace,
        metricName: CDN_KEY_METRIC.name,
        dimensionsMap: { service: CDN_KEY_METRIC.service },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: 0,
    });
    // CloudFront publishes its metrics in us-east-1 only, and an alarm reads its own region's metrics.
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== 'us-east-1') {
      Annotations.of(this).addInfoV2(
        'arca:cdn-5xx-alarm',
        `CloudFront 5xx alarm not created: CloudFront metrics live in us-east-1, the store in ${region} (docs/deploy.md).`,
      );
      return;
    }
    this.add('Cdn5xxRate', {
      alarmDescription: 'CloudFront answers 5xx to more than the allowed share of downloads.',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/CloudFront',
        metricName: '5xxErrorRate',
        dimensionsMap: { DistributionId: distributionId, Region: 'Global' },
        statistic: 'Average',
        period: Duration.minutes(5),
      }),
      threshold: ratePercent,
    });
  }

  private add(
    id: string,
    props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods' | 'comparisonOperator'>,
  ): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        ...props,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No traffic is not an outage: an idle store stays green.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
