import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { emfName } from '../../functions/adapters/aws/emfMetrics.ts';
import type { CounterName, HistogramName } from '../../functions/core/metrics.ts';
import { type ArtifactApi, SLI_ROUTES } from './api.ts';
import { POWERTOOLS } from './functions.ts';
import { type GarbageCollector, GC_METRIC_NAMES } from './garbageCollector.ts';
import type { ScanPipeline } from './scanPipeline.ts';
import type { BlobStorage } from './storage.ts';

/**
 * A SEARCH over the EMF metrics core records (functions/core/metrics.ts), across every service (api,
 * scan, gc) and every value of `dimensions`: one line per combination, or one sum with `sum`.
 */
export function sliSearch(
  metric: CounterName | HistogramName,
  dimensions: readonly string[],
  options: { statistic?: string; period?: Duration; filter?: Record<string, string>; label?: string } = {},
): cloudwatch.MathExpression {
  const schema = [POWERTOOLS.metricsNamespace, 'service', ...dimensions].join(',');
  const filter = Object.entries(options.filter ?? {})
    .map(([name, value]) => ` ${name}="${value}"`)
    .join('');
  const period = options.period ?? Duration.minutes(5);
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${emfName(metric)}"${filter}', '${options.statistic ?? 'Sum'}', ${period.toSeconds()})`,
    label: options.label ?? '',
    period,
  });
}

/** A graph of one or more SEARCH lines. */
export const searchGraph = (
  title: string,
  left: cloudwatch.IMetric[],
  props: Partial<cloudwatch.GraphWidgetProps> = {},
): cloudwatch.GraphWidget => new cloudwatch.GraphWidget({ title, left, width: 12, ...props });

/** The three dashboards' names, derived from the stack so two stores in one account never collide. */
export const DASHBOARD_KINDS = ['executive', 'on-call', 'debug'] as const;
export type DashboardKind = (typeof DASHBOARD_KINDS)[number];

/** What the dashboards chart. */
export interface DashboardSources {
  readonly api: ArtifactApi;
  readonly scan: ScanPipeline;
  readonly gc: GarbageCollector;
  readonly storage: BlobStorage;
}

/** S3 storage-type dimensions of `BucketSizeBytes`, one line per tier on the dashboard. */
const STORAGE_TYPES = {
  STANDARD: 'StandardStorage',
  STANDARD_IA: 'StandardIAStorage',
  GLACIER_IR: 'GlacierInstantRetrievalStorage',
} as const;

/**
 * The store's three CloudWatch dashboards, named after the stack: executive (30 days), on-call (now)
 * and debug (why), over the API Gateway, Lambda, SQS and S3 metrics and the EMF SLIs core records.
 */
export class StoreDashboards {
  constructor(
    private readonly scope: Construct,
    private readonly sources: DashboardSources,
    private readonly alarms: readonly cloudwatch.Alarm[],
  ) {}

  private newDashboard(kind: DashboardKind, interval: Duration): cloudwatch.Dashboard {
    const id = kind === 'on-call' ? 'Dashboard' : `${kind.charAt(0).toUpperCase()}${kind.slice(1)}Dashboard`;
    // Dashboard names are unique per account and region: the app's store (construct id `Store`) is
    // `<stack>-<kind>`; any other store in the stack adds its construct id, so two never collide.
    const store = this.scope.node.scope?.node.id;
    const stack = Stack.of(this.scope).stackName;
    const prefix = store === undefined || store === 'Store' ? stack : `${stack}-${store}`;
    return new cloudwatch.Dashboard(this.scope, id, {
      dashboardName: `${prefix}-${kind}`,
      defaultInterval: interval,
    });
  }

  /** For whoever owns the store: is it used, does it work over a month, what does it hold and cost. */
  executive(): cloudwatch.Dashboard {
    const { api, scan, gc, storage } = this.sources;
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
  onCall(): cloudwatch.Dashboard {
    const { api, scan, gc } = this.sources;
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
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 12 }),
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
  debug(): cloudwatch.Dashboard {
    const { api, storage } = this.sources;
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
export function sumOf(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `FILL(${prefix}${i}, 0)`).join(' + ');
}
