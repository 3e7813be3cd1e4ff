import type { MetricsPort } from '../ports.ts';
import { ArcaError } from './errors.ts';

/**
 * The SLIs Arca records, one catalog for every host: the local server exposes them to Prometheus
 * (`/metrics`, prom-client), the Lambdas as CloudWatch EMF metrics. Core records each one once,
 * through `deps.metrics`; label values are always bounded (route templates, error codes, verdicts),
 * never a raw path, name or id.
 */
export const COUNTERS = {
  /** Every answer of the route table, by route template, method and status. */
  httpRequests: {
    name: 'arca_http_requests_total',
    help: 'API requests answered',
    labels: ['route', 'method', 'status'],
  },
  /** M1: commits, `outcome` success or failure, `code` the error code of a failure. */
  publishes: { name: 'arca_publish_total', help: 'Version commits (M1)', labels: ['outcome', 'code'] },
  /** M2: download resolutions. */
  fetches: { name: 'arca_fetch_total', help: 'File downloads resolved (M2)', labels: ['outcome', 'code'] },
  promotions: { name: 'arca_promotions_total', help: 'Stage pointer moves', labels: ['outcome', 'code'] },
  /** M7: each staged object scanned, by verdict (`failed`: the scan itself broke and is retried). */
  scans: { name: 'arca_scans_total', help: 'Staged objects scanned, by verdict (M7)', labels: ['verdict'] },
  /** M8 */
  gcRuns: { name: 'arca_gc_runs_total', help: 'GC runs, by outcome (M8)', labels: ['outcome'] },
  gcDeletions: {
    name: 'arca_gc_deletions_total',
    help: 'What GC deleted or tombstoned (M8)',
    labels: ['kind'],
  },
  /** M10's parts: versions that turned available, and those the store signed provenance for. */
  versionsAvailable: {
    name: 'arca_versions_available_total',
    help: 'Versions that turned available',
    labels: [],
  },
  versionsSigned: {
    name: 'arca_versions_signed_total',
    help: 'Versions the store signed provenance for (M10)',
    labels: [],
  },
  /** 401 and 403 answers, by status and route template. */
  authDenials: {
    name: 'arca_auth_denials_total',
    help: 'Refused requests (401, 403)',
    labels: ['status', 'route'],
  },
  events: { name: 'arca_events_total', help: 'State-change events recorded in the outbox', labels: ['type'] },
  webhookDeliveries: {
    name: 'arca_webhook_deliveries_total',
    help: 'Webhook delivery attempts',
    labels: ['outcome'],
  },
} as const satisfies Record<string, MetricSpec>;

/** Latencies in seconds. */
export const HISTOGRAMS = {
  httpDuration: {
    name: 'arca_http_request_duration_seconds',
    help: 'API request latency',
    labels: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  /** M3 */
  fetchDuration: {
    name: 'arca_fetch_duration_seconds',
    help: 'Download resolution latency (M3)',
    labels: [],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  },
  /**
   * M4: from a version's commit to its promotion into a stage. The commit stands in for "the first
   * promotion request": it is when the version could first have been asked for, and it is recorded.
   */
  timeToPromote: {
    name: 'arca_time_to_promote_seconds',
    help: 'From commit to promotion into a stage (M4)',
    labels: ['stage'],
    buckets: [1, 10, 60, 300, 900, 3600, 4 * 3600, 86_400, 7 * 86_400],
  },
} as const satisfies Record<string, MetricSpec & { buckets: readonly number[] }>;

export interface MetricSpec {
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
}

export type CounterName = keyof typeof COUNTERS;
export type HistogramName = keyof typeof HISTOGRAMS;
export type Labels = Readonly<Record<string, string>>;

/** A port that records nothing, for deps built without one (unit tests, tools). */
export const noMetrics: MetricsPort = { count: () => {}, observe: () => {} };

/** The error code a failure is counted under: an ArcaError's code, else `Internal`. */
export const failureCode = (error: unknown): string => (error instanceof ArcaError ? error.code : 'Internal');

/**
 * Runs `work`, counting its outcome under `counter` (success, or failure with the error's code) and,
 * with `histogram`, its duration. The error is rethrown as it was.
 */
export async function measured<T>(
  metrics: MetricsPort | undefined,
  counter: 'publishes' | 'fetches' | 'promotions',
  work: () => Promise<T>,
  histogram?: 'fetchDuration',
): Promise<T> {
  const port = metrics ?? noMetrics;
  const started = performance.now();
  try {
    const result = await work();
    port.count(counter, { outcome: 'success', code: '' });
    return result;
  } catch (error) {
    port.count(counter, { outcome: 'failure', code: failureCode(error) });
    throw error;
  } finally {
    if (histogram) port.observe(histogram, (performance.now() - started) / 1000);
  }
}
