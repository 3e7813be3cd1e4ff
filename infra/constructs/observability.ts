import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ArtifactApi } from './api.ts';
import { SLI_ROUTES } from './api.ts';
import { type GarbageCollector, GC_METRIC_NAMES } from './garbageCollector.ts';
import type { ScanPipeline } from './scanPipeline.ts';
import type { BlobStorage } from './storage.ts';

export interface StoreObservabilityProps {
  readonly api: ArtifactApi;
  readonly scan: ScanPipeline;
  readonly gc: GarbageCollector;
  readonly storage: BlobStorage;
  /**
   * Where alarms notify.
   * @default - no action: alarms show in the console; subscribe later through `alarms`
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Share of API requests answering 5xx (percent, over 5 minutes) that raises the alarm.
   * @default 1
   */
  readonly api5xxRatePercent?: number;
}

/** S3 storage-type dimensions of `BucketSizeBytes`, one line per tier on the dashboard. */
const STORAGE_TYPES = {
  STANDARD: 'StandardStorage',
  STANDARD_IA: 'StandardIAStorage',
  GLACIER_IR: 'GlacierInstantRetrievalStorage',
} as const;

/** Alarms on what needs a human, and a dashboard of the SLIs and of what GC deletes. */
export class StoreObservability extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: StoreObservabilityProps) {
    super(scope, id);
    const { api, scan, gc, storage } = props;
    const fiveMinutes = Duration.minutes(5);

    this.addAlarm('DeadLetters', {
      alarmDescription: 'Staged uploads failed scanning after every retry: versions stay pending.',
      metric: scan.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    // Both APIs (SigV4 and bearer) count: one share over all of the function's API traffic.
    const api5xxRate = new cloudwatch.MathExpression({
      label: 'API 5xx %',
      expression: `100 * (${sumOf('errors', api.apis.length)}) / MAX([${sumOf('requests', api.apis.length)}, 1])`,
      usingMetrics: Object.fromEntries(
        api.apis.flatMap((httpApi, i) => [
          [`errors${i}`, httpApi.metricServerError({ period: fiveMinutes, statistic: 'Sum' })],
          [`requests${i}`, httpApi.metricCount({ period: fiveMinutes, statistic: 'Sum' })],
        ]),
      ),
      period: fiveMinutes,
    });
    this.addAlarm('Api5xxRate', {
      alarmDescription: 'The API answers 5xx to more than the allowed share of requests.',
      metric: api5xxRate,
      threshold: props.api5xxRatePercent ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.addAlarm('ScanErrors', {
      alarmDescription: 'The scan function failed: uploads are being retried or dead-lettered.',
      metric: scan.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.addAlarm('GcErrors', {
      alarmDescription: 'A GC run failed (or timed out): staged bytes and unreferenced blobs pile up.',
      metric: gc.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    // The handler runs slices until a minute is left, so one long run only means a backlog; most of a
    // day's runs using ≥ 90 % of the timeout means GC is not keeping up.
    this.addAlarm('GcNearTimeout', {
      alarmDescription: 'Most GC runs of the last day used ≥ 90 % of their 15 minutes: GC is falling behind.',
      metric: gc.function.metricDuration({ period: Duration.days(1), statistic: 'p50' }),
      threshold: 0.9 * gc.timeout.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    if (props.alarmTopic) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const alarm of this.alarms) alarm.addAlarmAction(action);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      this.successRate('Publish success rate (commit)', api, SLI_ROUTES.publish),
      this.successRate('Fetch success rate (download)', api, SLI_ROUTES.fetch),
      new cloudwatch.GraphWidget({
        title: 'Fetch latency p95 (ms)',
        left: api.apis.map((httpApi, i) =>
          this.routeMetric(httpApi, SLI_ROUTES.fetch, 'Latency', 'p95', i === 0 ? 'SigV4' : 'bearer'),
        ),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Scan backlog',
        left: [scan.queue.metricApproximateNumberOfMessagesVisible({ label: 'waiting' })],
        right: [scan.queue.metricApproximateAgeOfOldestMessage({ label: 'oldest (s)' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Bytes stored by tier',
        stacked: true,
        left: Object.entries(STORAGE_TYPES).map(
          ([label, storageType]) =>
            new cloudwatch.Metric({
              namespace: 'AWS/S3',
              metricName: 'BucketSizeBytes',
              dimensionsMap: { BucketName: storage.bucket.bucketName, StorageType: storageType },
              statistic: 'Average',
              // S3 publishes storage metrics once a day.
              period: Duration.days(1),
              label,
            }),
        ),
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'GC deletions (per hour)',
        left: GC_METRIC_NAMES.map((name) => gc.metric(name)),
      }),
      new cloudwatch.GraphWidget({
        title: 'GC failures',
        left: [
          gc.function.metricErrors({ period: Duration.hours(1), statistic: 'Sum', label: 'failed runs' }),
        ],
        right: [
          gc.function.metricDuration({
            period: Duration.hours(1),
            statistic: 'Maximum',
            label: 'longest run (ms)',
          }),
        ],
      }),
    );
  }

  private addAlarm(id: string, props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'>): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        ...props,
        evaluationPeriods: 1,
        // No traffic is not an outage: an idle store stays green.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /**
   * Requests on the route, over both APIs, that did not answer 5xx (4xx are the caller's, not the
   * store's, failures).
   */
  private successRate(title: string, api: ArtifactApi, routeKey: string): cloudwatch.GraphWidget {
    const n = api.apis.length;
    return new cloudwatch.GraphWidget({
      title,
      leftYAxis: { min: 0, max: 100 },
      left: [
        new cloudwatch.MathExpression({
          label: '% success',
          expression: `100 * (1 - (${sumOf('errors', n)}) / MAX([${sumOf('requests', n)}, 1]))`,
          usingMetrics: Object.fromEntries(
            api.apis.flatMap((httpApi, i) => [
              [`errors${i}`, this.routeMetric(httpApi, routeKey, '5xx', 'Sum')],
              [`requests${i}`, this.routeMetric(httpApi, routeKey, 'Count', 'Sum')],
            ]),
          ),
          period: Duration.minutes(5),
        }),
      ],
    });
  }

  private routeMetric(
    httpApi: apigw.HttpApi,
    routeKey: string,
    metricName: string,
    statistic: string,
    label?: string,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensionsMap: { ApiId: httpApi.apiId, Stage: '$default', Route: routeKey },
      statistic,
      period: Duration.minutes(5),
      ...(label ? { label } : {}),
    });
  }
}

/** `FILL(x0, 0) + FILL(x1, 0) + …`: an API with no traffic in a period counts as 0, not as a gap. */
function sumOf(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `FILL(${prefix}${i}, 0)`).join(' + ');
}
