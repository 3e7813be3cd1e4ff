import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { lazyAwsDeps } from '../adapters/aws/deps.ts';
import { EmfMetrics } from '../adapters/aws/emfMetrics.ts';
import { runtimeSecrets } from '../adapters/aws/runtimeSecrets.ts';
import type { Caller, CoreDeps } from '../core/deps.ts';
import { type GcReport, isGcRunning, runGarbageCollection } from '../core/gc.ts';

/** The schedule's identity in audit events. */
const SCHEDULE: Caller = {
  principal: { id: 'gc-schedule', kind: 'admin', admin: true, roles: {} },
  requestId: 'gc-schedule',
};

/** Stop starting new runs when less than this is left of the invocation. */
const SAFETY_MS = 60_000;

export interface GcHandlerOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** Steps per run; each run is one bounded slice of the work. */
  readonly maxActions?: number;
}

/**
 * EventBridge schedule → GC. Each run is bounded by the time the invocation has left (less a safety
 * margin) and resumes where the last one stopped (the store keeps the position); a run that ends on
 * its action limit is followed by another while time remains. Publishes deletion counts as metrics.
 */
export function createHandler(deps: CoreDeps | (() => CoreDeps), options: GcHandlerOptions = {}) {
  const logger = options.logger ?? new Logger({ serviceName: 'arca-gc' });
  const metrics = options.metrics ?? new Metrics({ namespace: 'Arca', serviceName: 'arca-gc' });
  const gc = async (_event: unknown, context: Context): Promise<GcReport[]> => {
    const given = typeof deps === 'function' ? deps() : deps;
    const resolved = { ...given, metrics: given.metrics ?? new EmfMetrics(metrics) };
    const reports: GcReport[] = [];
    let report: GcReport | undefined;
    do {
      const caller = { ...SCHEDULE, requestId: context.awsRequestId };
      try {
        report = await runGarbageCollection(resolved, caller, {
          maxActions: options.maxActions ?? 50_000,
          budgetMs: Math.max(context.getRemainingTimeInMillis() - SAFETY_MS, 1000),
        });
      } catch (error) {
        if (!isGcRunning(error)) throw error;
        // A run started by hand (or a slow previous schedule) holds the lock: it does this work.
        logger.info('gc skipped: another run holds the GC lock');
        break;
      }
      logger.info('gc run', { ...report });
      metrics.addMetric('DeletedVersions', MetricUnit.Count, report.deleted.versions);
      metrics.addMetric('DeletedBlobs', MetricUnit.Count, report.deleted.blobs);
      metrics.addMetric('ExpiredSessions', MetricUnit.Count, report.deleted.sessions);
      metrics.addMetric('Tombstoned', MetricUnit.Count, report.tombstoned);
      reports.push(report);
    } while (report.stoppedBy === 'maxActions' && context.getRemainingTimeInMillis() > SAFETY_MS);
    metrics.publishStoredMetrics();
    return reports;
  };
  return middy(gc).use(injectLambdaContext(logger));
}

// GC signs the cursor it follows between slices: its key is read from Secrets Manager first.
export const handler = createHandler(lazyAwsDeps()).use(runtimeSecrets());
