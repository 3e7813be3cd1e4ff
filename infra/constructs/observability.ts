import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ArtifactApi } from './api.ts';
import { SLI_ROUTES } from './api.ts';
import { type DashboardKind, searchGraph, sliSearch } from './dashboards.ts';
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
  /** ARN of an existing topic, when `alarmTopic` is not given. @default - no action */
  readonly alarmTopicArn?: string;
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
  /** The on-call dashboard (`dashboards.onCall`), kept under its old name. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Executive (30 days: success, storage, cost drivers, stages), on-call (now), debug (why). */
  public readonly dashboards: {
    readonly executive: cloudwatch.Dashboard;
    readonly onCall: cloudwatch.Dashboard;
    readonly debug: cloudwatch.Dashboard;
  };

  constructor(scope: Construct, id: string, props: StoreObservabilityProps) {
    super(scope, id);
    const { api, scan, gc } = props;
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
    const topic =
      props.alarmTopic ??
      (props.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined);
    if (topic) {
      const action = new actions.SnsAction(topic);
      for (const alarm of this.alarms) alarm.addAlarmAction(action);
    }

    this.dashboards = {
      executive: this.executiveDashboard(props),
      onCall: this.onCallDashboard(props),
      debug: this.debugDashboard(props),
    };
    this.dashboard = this.dashboards.onCall;
  }

  private newDashboard(kind: DashboardKind, interval: Duration): cloudwatch.Dashboard {
    const id = kind === 'on-call' ? 'Dashboard' : `${kind.charAt(0).toUpperCase()}${kind.slice(1)}Dashboard`;
    return new cloudwatch.Dashboard(this, id, {
      dashboardName: `${Stack.of(this).stackName}-${kind}`,
      defaultInterval: interval,
    });
  }

  /** For whoever owns the store: is it used, does it work over a month, what does it hold and cost. */
  private executiveDashboard({ api, storage, gc, scan }: StoreObservabilityProps): cloudwatch.Dashboard {
    const dashboard = this.newDashboard('executive', Duration.days(30));
    const month = Duration.days(30);
    dashboard.addWidgets(
      this.successRate('Publish success rate, 30 days (commit)', api, SLI_ROUTES.publish, month),
      this.successRate('Fetch success rate, 30 days (download)', api, SLI_ROUTES.fetch, month),
    );
    dashboard.addWidgets(
      this.bytesByTier(storage),
      new cloudwatch.GraphWidget({
        title: 'Cost drivers: requests and function time per day',
        left: api.apis.map((httpApi, i) =>
          httpApi.metricCount({
            period: Duration.days(1),
            statistic: 'Sum',
            label: `API requests (${i === 0 ? 'SigV4' : 'bearer'})`,
          }),
        ),
        right: [scan.function, gc.function].map((fn, i) =>
          fn.metricDuration({
            period: Duration.days(1),
            statistic: 'Sum',
            label: `${i === 0 ? 'scan' : 'gc'} ms`,
          }),
        ),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      searchGraph('Promotions by stage (per day)', [
        sliSearch('timeToPromote', ['stage'], { statistic: 'SampleCount', period: Duration.days(1) }),
      ]),
      searchGraph('Versions available and signed (M10, per day)', [
        sliSearch('versionsAvailable', [], { period: Duration.days(1), label: 'available' }),
        sliSearch('versionsSigned', [], { period: Duration.days(1), label: 'signed' }),
      ]),
    );
    return dashboard;
  }

  /** For whoever is paged: errors now, backlogs, GC, throttling, and the alarms. */
  private onCallDashboard({ api, scan, gc }: StoreObservabilityProps): cloudwatch.Dashboard {
    const dashboard = this.newDashboard('on-call', Duration.hours(6));
    const minute = Duration.minutes(1);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Errors per minute',
        left: [
          ...api.apis.map((httpApi, i) =>
            httpApi.metricServerError({
              period: minute,
              statistic: 'Sum',
              label: `API 5xx (${i === 0 ? 'SigV4' : 'bearer'})`,
            }),
          ),
          scan.function.metricErrors({ period: minute, statistic: 'Sum', label: 'scan errors' }),
          gc.function.metricErrors({ period: minute, statistic: 'Sum', label: 'gc errors' }),
        ],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Scan backlog',
        left: [scan.queue.metricApproximateNumberOfMessagesVisible({ label: 'waiting' })],
        right: [scan.queue.metricApproximateAgeOfOldestMessage({ label: 'oldest (s)' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Scan DLQ depth',
        left: [
          scan.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: minute,
            label: 'dead letters',
          }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Throttles',
        left: [api.apis[0]!, ...api.apis.slice(1)].map((httpApi, i) =>
          httpApi.metricClientError({
            period: minute,
            statistic: 'Sum',
            label: `API 4xx incl. 429 (${i === 0 ? 'SigV4' : 'bearer'})`,
          }),
        ),
        right: [scan.function, gc.function].map((fn, i) =>
          fn.metricThrottles({
            period: minute,
            statistic: 'Sum',
            label: `${i === 0 ? 'scan' : 'gc'} throttles`,
          }),
        ),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      searchGraph('GC runs (per hour)', [sliSearch('gcRuns', ['outcome'], { period: Duration.hours(1) })]),
      new cloudwatch.GraphWidget({
        title: 'GC deletions (per hour)',
        left: GC_METRIC_NAMES.map((name) => gc.metric(name)),
        width: 6,
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
        width: 6,
      }),
    );
    dashboard.addWidgets(
      this.successRate('Publish success rate (commit)', api, SLI_ROUTES.publish),
      this.successRate('Fetch success rate (download)', api, SLI_ROUTES.fetch),
      new cloudwatch.GraphWidget({
        title: 'Fetch latency p95 (ms)',
        left: api.apis.map((httpApi, i) =>
          this.routeMetric(httpApi, SLI_ROUTES.fetch, 'Latency', 'p95', i === 0 ? 'SigV4' : 'bearer'),
        ),
      }),
    );
    return dashboard;
  }

  /** For whoever digs in: latency by route, the slowest routes, scans by verdict, who is refused. */
  private debugDashboard({ api, storage }: StoreObservabilityProps): cloudwatch.Dashboard {
    const dashboard = this.newDashboard('debug', Duration.hours(3));
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Latency histogram of the SLI routes (p50, p90, p99, ms)',
        left: api.apis.flatMap((httpApi, i) =>
          Object.values(SLI_ROUTES).flatMap((routeKey) =>
            ['p50', 'p90', 'p99'].map((stat) =>
              this.routeMetric(
                httpApi,
                routeKey,
                'Latency',
                stat,
                `${routeKey.split(' ')[0]} ${stat} (${i === 0 ? 'SigV4' : 'bearer'})`,
              ),
            ),
          ),
        ),
        width: 12,
      }),
      searchGraph('Request latency p95 by route (s)', [
        sliSearch('httpDuration', ['route', 'method', 'status'], { statistic: 'p95' }),
      ]),
    );
    dashboard.addWidgets(
      searchGraph('Slowest routes (p99, top 10, s)', [
        new cloudwatch.MathExpression({
          expression: `SORT(${sliSearch('httpDuration', ['route', 'method', 'status'], { statistic: 'p99' }).expression}, MAX, DESC, 10)`,
          label: '',
          period: Duration.minutes(5),
        }),
      ]),
      searchGraph('Auth failures (401, 403) by route', [sliSearch('authDenials', ['status', 'route'])]),
    );
    dashboard.addWidgets(
      searchGraph('Scans by verdict (M7)', [sliSearch('scans', ['verdict'])]),
      searchGraph('Publish and fetch failures by code (M1, M2)', [
        sliSearch('publishes', ['outcome', 'code'], { filter: { outcome: 'failure' } }),
        sliSearch('fetches', ['outcome', 'code'], { filter: { outcome: 'failure' } }),
      ]),
    );
    dashboard.addWidgets(
      searchGraph('Fetch resolution latency (M3, p50 / p95 / p99, s)', [
        sliSearch('fetchDuration', [], { statistic: 'p50', label: 'p50' }),
        sliSearch('fetchDuration', [], { statistic: 'p95', label: 'p95' }),
        sliSearch('fetchDuration', [], { statistic: 'p99', label: 'p99' }),
      ]),
      this.bytesByTier(storage),
    );
    return dashboard;
  }

  private bytesByTier(storage: BlobStorage): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({
      title: 'Bytes stored by tier',
      stacked: true,
      width: 12,
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
    });
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
  private successRate(
    title: string,
    api: ArtifactApi,
    routeKey: string,
    period: Duration = Duration.minutes(5),
  ): cloudwatch.GraphWidget {
    const n = api.apis.length;
    return new cloudwatch.GraphWidget({
      title,
      width: 8,
      leftYAxis: { min: 0, max: 100 },
      left: [
        new cloudwatch.MathExpression({
          label: '% success',
          expression: `100 * (1 - (${sumOf('errors', n)}) / MAX([${sumOf('requests', n)}, 1]))`,
          usingMetrics: Object.fromEntries(
            api.apis.flatMap((httpApi, i) => [
              [`errors${i}`, this.routeMetric(httpApi, routeKey, '5xx', 'Sum', undefined, period)],
              [`requests${i}`, this.routeMetric(httpApi, routeKey, 'Count', 'Sum', undefined, period)],
            ]),
          ),
          period,
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
    period: Duration = Duration.minutes(5),
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensionsMap: { ApiId: httpApi.apiId, Stage: '$default', Route: routeKey },
      statistic,
      period,
      ...(label ? { label } : {}),
    });
  }
}

/** `FILL(x0, 0) + FILL(x1, 0) + …`: an API with no traffic in a period counts as 0, not as a gap. */
function sumOf(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `FILL(${prefix}${i}, 0)`).join(' + ');
}
