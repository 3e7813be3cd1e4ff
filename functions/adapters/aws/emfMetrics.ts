import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CounterName, HistogramName, Labels } from '../../core/metrics.ts';
import type { MetricsPort } from '../../ports.ts';

/**
 * The CloudWatch name of a catalog metric (`core/metrics.ts`): its key in PascalCase, so
 * `publishes` is `Publishes` and `fetchDuration` is `FetchDuration`. The stack's dashboards and
 * alarms use the same function.
 */
export const emfName = (metric: CounterName | HistogramName): string =>
  metric.charAt(0).toUpperCase() + metric.slice(1);

/** Labels with a value become dimensions; an empty one (a success's error code) is left out. */
const dimensionsOf = (labels: Labels): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== ''));

/**
 * The metrics port on Lambda: each recording is one EMF metric through Powertools. An unlabelled one
 * joins the invocation's batch (flushed by `logMetrics`); a labelled one goes out at once with its
 * labels as dimensions, so they never leak into the batch's other metrics.
 */
export class EmfMetrics implements MetricsPort {
  constructor(private readonly metrics: Metrics) {}

  count(metric: CounterName, labels: Labels = {}, by = 1): void {
    this.emit(emfName(metric), MetricUnit.Count, by, labels);
  }

  observe(metric: HistogramName, seconds: number, labels: Labels = {}): void {
    this.emit(emfName(metric), MetricUnit.Seconds, seconds, labels);
  }

  private emit(
    name: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
    labels: Labels,
  ): void {
    const dimensions = dimensionsOf(labels);
    if (Object.keys(dimensions).length === 0) return void this.metrics.addMetric(name, unit, value);
    const single = this.metrics.singleMetric();
    single.addDimensions(dimensions);
    single.addMetric(name, unit, value);
  }
}
