import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ArtifactApi } from './api.ts';
import { StoreDashboards, sumOf } from './dashboards.ts';
import type { GarbageCollector } from './garbageCollector.ts';
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

    const builder = new StoreDashboards(this, props, this.alarms);
    this.dashboards = {
      executive: builder.executive(),
      onCall: builder.onCall(),
      debug: builder.debug(),
    };
    this.dashboard = this.dashboards.onCall;
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
}
