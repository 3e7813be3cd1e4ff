import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { emfName } from '../../functions/adapters/aws/emfMetrics.ts';
import type { CounterName, HistogramName } from '../../functions/core/metrics.ts';
import { POWERTOOLS } from './functions.ts';

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
