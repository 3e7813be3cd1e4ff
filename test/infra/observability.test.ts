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

describe('dashboards', () => {
  /** The body without JSON's escaping: `MetricName="X"` reads as written in the SEARCH. */
  const plain = (text: string) => text.replace(/\\/g, '');
  /** The body of the dashboard named `<stack>-<kind>`, as JSON text. */
  const body = (kind: 'executive' | 'on-call' | 'debug') => {
    const found = resourcesOf(arca.template, 'AWS::CloudWatch::Dashboard').find(
      ([, d]) => d.Properties.DashboardName === `Arca-${kind}`,
    );
    if (!found) throw new Error(`no ${kind} dashboard`);
    return JSON.stringify(found[1].Properties.DashboardBody);
  };

  it('are three, named after the stack: executive, on-call and debug', () => {
    const names = resourcesOf(arca.template, 'AWS::CloudWatch::Dashboard').map(
      ([, d]) => d.Properties.DashboardName,
    );
    expect(names.sort()).toEqual(['Arca-debug', 'Arca-executive', 'Arca-on-call']);
  });

  it('executive: publish and fetch success over 30 days, storage and cost drivers, artifacts by stage', () => {
    const text = body('executive');
    for (const title of [
      'Publish success rate, 30 days',
      'Fetch success rate, 30 days',
      'Bytes stored by tier',
      'Cost drivers',
      'Promotions by stage',
      'Versions available and signed',
    ])
      expect(text).toContain(title);
    expect(text).toContain('POST /v1/uploads/{uploadId}/commit');
    expect(text).toContain('\\"period\\":2592000');
    for (const storageType of ['StandardStorage', 'StandardIAStorage', 'GlacierInstantRetrievalStorage'])
      expect(text).toContain(storageType);
    expect(plain(text)).toContain('MetricName="TimeToPromote"');
    expect(plain(text)).toContain('MetricName="VersionsSigned"');
  });

  it('on-call: errors per minute, scan queue age, DLQ depth, GC runs and failures, throttles, alarms', () => {
    const text = body('on-call');
    for (const title of [
      'Errors per minute',
      'Scan backlog',
      'Scan DLQ depth',
      'GC runs',
      'GC deletions',
      'GC failures',
      'Throttles',
      'Alarms',
      'Fetch latency p95',
    ])
      expect(text).toContain(title);
    expect(text).toContain('ApproximateAgeOfOldestMessage');
    expect(text).toContain('Throttles');
    expect(plain(text)).toContain('MetricName="GcRuns"');
    for (const metric of ['DeletedBlobs', 'DeletedVersions', 'Tombstoned', 'ExpiredSessions'])
      expect(text).toContain(`\\"${metric}\\",\\"service\\",\\"arca-gc\\"`);
  });

  it('debug: latency histograms, the slowest routes, auth failures, scans and failures by code', () => {
    const text = body('debug');
    for (const title of [
      'Latency histogram of the SLI routes',
      'Request latency p95 by route',
      'Slowest routes',
      'Auth failures',
      'Scans by verdict',
      'Publish and fetch failures by code',
      'Fetch resolution latency',
    ])
      expect(text).toContain(title);
    expect(text).toContain('SORT(SEARCH(');
    expect(plain(text)).toContain('MetricName="HttpDuration"');
    expect(plain(text)).toContain('MetricName="AuthDenials"');
    for (const stat of ['p50', 'p90', 'p99']) expect(text).toContain(`\\"stat\\":\\"${stat}\\"`);
  });
});

describe('alarm topic', () => {
  it('notifies the SNS topic of the alarmTopicArn context key from every alarm', () => {
    const topic = 'arn:aws:sns:us-east-1:111111111111:arca-alarms';
    const { template } = synthArca({ alarmTopicArn: topic });
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic]);
  });

  it('notifies the topic the store creates when no topic is given', () => {
    const topicId = resourcesOf(arca.template, 'AWS::SNS::Topic')[0]?.[0];
    for (const [, alarm] of resourcesOf(arca.template, 'AWS::CloudWatch::Alarm'))
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });
});
