import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lazyAwsDeps } from '../adapters/aws/deps.ts';
import { EmfMetrics } from '../adapters/aws/emfMetrics.ts';
import { provenanceRequestOf } from '../adapters/aws/sqsProvenanceQueue.ts';
import { ensureProvenance } from '../core/provenance.ts';
import { type ScanDeps, scanStagedObject } from '../core/scan.ts';

/**
 * The staged keys an SQS message carries: S3 event notifications URL-encode keys (spaces as `+`).
 * S3's test event, sent when the notification is configured, carries none.
 */
export function stagedKeysOf(record: SQSRecord): string[] {
  const body = JSON.parse(record.body) as { Records?: { s3?: { object?: { key?: string } } }[] };
  return (body.Records ?? [])
    .map((r) => r.s3?.object?.key)
    .filter((key): key is string => key !== undefined)
    .map((key) => decodeURIComponent(key.replace(/\+/g, ' ')));
}

/** The scan queue's two kinds of message: S3 events naming staged keys, and provenance requests. */
function workOf(record: SQSRecord): {
  stagedKeys: string[];
  provenance?: ReturnType<typeof provenanceRequestOf>;
} {
  const provenance = provenanceRequestOf(JSON.parse(record.body));
  return provenance ? { stagedKeys: [], provenance } : { stagedKeys: stagedKeysOf(record) };
}

export interface ScanHandlerOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

/**
 * SQS (S3 ObjectCreated on `staging/`) → the scan step, once per staged key; a provenance request (a
 * version that was `available` at commit) → its signing. Messages that failed are
 * reported back as partial batch failures, so only they are redelivered (and land in the DLQ after
 * the queue's maxReceiveCount). Redelivery is safe: the scan step is idempotent.
 */
export function createHandler(deps: ScanDeps | (() => ScanDeps), options: ScanHandlerOptions = {}) {
  const service = process.env.POWERTOOLS_SERVICE_NAME || 'arca-scan';
  const logger = options.logger ?? new Logger({ serviceName: service });
  const metrics =
    options.metrics ??
    new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'Arca', serviceName: service });
  const scanOnce = async (resolved: ScanDeps, stagingKey: string): Promise<void> => {
    const result = await scanStagedObject(resolved, stagingKey);
    logger.info('scanned', { stagingKey, result });
    // Quarantines are the signal worth alarming on: bad uploads or malware reaching the store.
    if (result !== 'skipped') metrics.addMetric('ScannedObjects', MetricUnit.Count, 1);
    if (result === 'rejected' || result === 'infected')
      metrics.addMetric('QuarantinedObjects', MetricUnit.Count, 1);
  };
  const scan = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const given = typeof deps === 'function' ? deps() : deps;
    const resolved = { ...given, metrics: given.metrics ?? new EmfMetrics(metrics) };
    // One scan per staged key and batch, however many messages name it: S3 delivers at least once,
    // and some emulators announce a completed multipart upload twice (Put and CompleteMultipartUpload).
    // Every message naming the key shares the scan's outcome.
    const scans = new Map<string, Promise<void>>();
    const scanOf = (stagingKey: string) => {
      let running = scans.get(stagingKey);
      if (!running) {
        running = scanOnce(resolved, stagingKey);
        scans.set(stagingKey, running);
      }
      return running;
    };
    const failures: SQSBatchItemFailure[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        try {
          const work = workOf(record);
          if (work.provenance) {
            const result = await ensureProvenance(resolved, work.provenance);
            logger.info('provenance', { ...work.provenance, result });
            if (result === 'signed') metrics.addMetric('SignedVersions', MetricUnit.Count, 1);
          }
          await Promise.all(work.stagedKeys.map(scanOf));
        } catch (error) {
          logger.error('scan failed; the message will be redelivered', {
            messageId: record.messageId,
            error,
          });
          failures.push({ itemIdentifier: record.messageId });
          metrics.addMetric('ScanFailures', MetricUnit.Count, 1);
        }
      }),
    );
    return { batchItemFailures: failures };
  };
  return middy(scan).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = createHandler(lazyAwsDeps());
