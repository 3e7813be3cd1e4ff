import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { lazyAwsDeps } from '../adapters/aws/deps.ts';
import { type RematchDeps, type RematchReport, rematchVulnerabilities } from '../core/vulns/rematch.ts';

export interface RematchHandlerOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

/**
 * EventBridge schedule → the OSV re-match (core/vulns/rematch.ts): every kept SBOM (of files and of
 * attestations) matched against the advisory database `ARCA_OSV_DB` names, when it changed since.
 * Idempotent and cheap when nothing changed, so it simply runs on a schedule; a failure (the
 * database unreadable) fails the invocation, which EventBridge retries and the Lambda errors show.
 */
export function createHandler(deps: RematchDeps | (() => RematchDeps), options: RematchHandlerOptions = {}) {
  const logger = options.logger ?? new Logger({ serviceName: 'arca-rematch' });
  const metrics = options.metrics ?? new Metrics({ namespace: 'Arca', serviceName: 'arca-rematch' });
  const rematch = async (): Promise<RematchReport | undefined> => {
    const report = await rematchVulnerabilities(typeof deps === 'function' ? deps() : deps);
    if (!report) {
      logger.warn('no advisory database is configured (ARCA_OSV_DB): nothing to match');
      return undefined;
    }
    logger.info('vulnerabilities rematched', { ...report });
    metrics.addMetric('RematchedSboms', MetricUnit.Count, report.rematched);
    metrics.addMetric('NewlyFlaggedSboms', MetricUnit.Count, report.newlyFlagged);
    metrics.publishStoredMetrics();
    return report;
  };
  return middy(rematch).use(injectLambdaContext(logger));
}

export const handler = createHandler(lazyAwsDeps());
