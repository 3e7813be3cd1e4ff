import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourcesOf, type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  arca = synthArca();
});

describe('alarms', () => {
  it('fires when anything sits in the scan DLQ', () => {
    arca.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'QueueName'] },
        },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('fires on an API 5xx rate above 1 %, over the SigV4 and the bearer API together', () => {
    const metric = (id: string, name: string) =>
      Match.objectLike({
        Id: id,
        MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: name }) }),
      });
    arca.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({
          Expression:
            '100 * (FILL(errors0, 0) + FILL(errors1, 0)) / MAX([FILL(requests0, 0) + FILL(requests1, 0), 1])',
        }),
        metric('errors0', '5xx'),
        metric('requests0', 'Count'),
        metric('errors1', '5xx'),
        metric('requests1', 'Count'),
      ]),
    });
  });

  it('fires on scan function errors', () => {
    arca.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('ScanFunction') } }],
      Threshold: 0,
    });
  });

  it('fires on GC function errors, timeouts included', () => {
    arca.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('GcFunction') } }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('fires when most GC runs of a day come within 10 % of the 15-minute timeout', () => {
    arca.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('GcFunction') } }],
      ExtendedStatistic: 'p50',
      Period: 86400,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 0.9 * 900_000,
    });
  });

  it('stays green when the store is idle', () => {
    for (const [, alarm] of resourcesOf(arca.template, 'AWS::CloudWatch::Alarm'))
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    const sliAlarms = resourcesOf(arca.template, 'AWS::CloudWatch::Alarm').filter(([id]) =>
      id.includes('Observability'),
    );
    expect(sliAlarms).toHaveLength(5);
  });
});

describe('dashboard', () => {
  const body = () => {
    const [[, dashboard] = []] = resourcesOf(arca.template, 'AWS::CloudWatch::Dashboard');
    return JSON.stringify(dashboard?.Properties.DashboardBody);
  };

  it('charts GC deletions and GC failures', () => {
    const text = body();
    for (const title of ['GC deletions', 'GC failures']) expect(text).toContain(title);
    for (const metric of ['DeletedBlobs', 'DeletedVersions', 'Tombstoned', 'ExpiredSessions'])
      expect(text).toContain(`\\"${metric}\\",\\"service\\",\\"arca-gc\\"`);
  });

  it('charts the SLIs: publish and fetch success, fetch p95, scan backlog, bytes by tier', () => {
    const text = body();
    for (const title of [
      'Publish success rate',
      'Fetch success rate',
      'Fetch latency p95',
      'Scan backlog',
      'Bytes stored by tier',
    ])
      expect(text).toContain(title);
    expect(text).toContain('POST /v1/uploads/{uploadId}/commit');
    expect(text).toContain('GET /v1/packages/{ns}/{pkg}/versions/{version}/files/{name}');
    expect(text).toContain('\\"stat\\":\\"p95\\"');
    for (const storageType of ['StandardStorage', 'StandardIAStorage', 'GlacierInstantRetrievalStorage'])
      expect(text).toContain(storageType);
    expect(text).toContain('BucketSizeBytes');
  });
});
