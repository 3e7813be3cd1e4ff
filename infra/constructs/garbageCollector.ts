import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';
import { ArcaFunction, handlerEntry, POWERTOOLS } from './functions.ts';
import type { IndexTable } from './indexTable.ts';
import type { BlobStorage } from './storage.ts';

/**
 * The `service` dimension of GC's metrics: functions/handlers/gc.ts builds its Powertools `Metrics`
 * with this service name (overriding POWERTOOLS_SERVICE_NAME), under the `Arca` namespace.
 */
export const GC_METRICS_SERVICE = 'arca-gc';

/** What functions/handlers/gc.ts counts per run, each a Count summed over the run's slices. */
export const GC_METRIC_NAMES = ['DeletedBlobs', 'DeletedVersions', 'Tombstoned', 'ExpiredSessions'] as const;

export type GcMetricName = (typeof GC_METRIC_NAMES)[number];

/** The longest a Lambda may run; the handler stops starting slices a minute before it. */
const GC_TIMEOUT = Duration.minutes(15);

export interface GarbageCollectorProps {
  readonly storage: BlobStorage;
  readonly index: IndexTable;
  /**
   * How often GC runs. Each run resumes where the last stopped, so a shorter interval only spreads
   * the same work thinner; it should stay longer than the 15-minute timeout.
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly schedule?: events.Schedule;
  /**
   * Hours a blob stays unreferenced before GC deletes its bytes (`ARCA_BLOB_GRACE_HOURS`): the window
   * in which a publisher that saw the blob as `exists` can still commit against it.
   * @default 24
   */
  readonly blobGraceHours?: number;
  /**
   * Concurrency reserved for (and capped at) `gc`. Not needed for exclusivity: a run holds the
   * `LOCK#gc` item in the index, and a run that finds it held skips. Reserving fails to deploy in
   * accounts whose unreserved pool would drop under 10 (new accounts have a limit of 10).
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The `gc` function on an EventBridge schedule: expires sessions, applies retention, deletes
 * tombstoned versions and unreferenced blobs (functions/core/gc.ts), in bounded slices.
 */
export class GarbageCollector extends Construct {
  public readonly function: lambda.Function;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: GarbageCollectorProps) {
    super(scope, id);
    const blobGraceHours = props.blobGraceHours ?? 24;
    if (!Number.isSafeInteger(blobGraceHours) || blobGraceHours < 0)
      throw new Error(`blobGraceHours must be a whole number of hours ≥ 0, got ${blobGraceHours}`);

    this.function = new ArcaFunction(this, 'Function', {
      entry: handlerEntry('gc'),
      description: 'Arca GC: expires sessions, applies retention, deletes tombstoned versions and blobs',
      timeout: GC_TIMEOUT,
      memorySize: props.memorySize ?? 512,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logRetention: props.logRetention,
    });
    this.function.addEnvironment(ENV.blobGraceHours, String(blobGraceHours));
    props.storage.grantCollect(this.function);
    props.index.grantIndexReadWrite(this.function);
    // The next scheduled run is the retry: it resumes the same work, and a failure has already alarmed.
    this.function.configureAsyncInvoke({ retryAttempts: 0 });

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Arca: runs garbage collection',
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.function)],
    });
  }

  /** One of the deletion counts the handler publishes, summed per `period`. */
  public metric(metricName: GcMetricName, period = Duration.hours(1)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: POWERTOOLS.metricsNamespace,
      metricName,
      dimensionsMap: { service: GC_METRICS_SERVICE },
      statistic: 'Sum',
      period,
      label: metricName,
    });
  }

  /** The function's timeout, for alarms on runs that come close to it. */
  public get timeout(): Duration {
    return GC_TIMEOUT;
  }
}
