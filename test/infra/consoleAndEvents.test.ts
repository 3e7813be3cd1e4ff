import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config/env.ts';
import { CONSOLE_HEADERS } from '../../functions/local/consoleAssets.ts';
import { functionEnvironment, resourcesOf, type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  arca = synthArca();
});

const FUNCTIONS = [/^Arca scan/i, /^Arca GC/, /^Arca events/];

describe('the event bus', () => {
  it('is one bus of the stack, named to every function that emits, which may put events on it', () => {
    const buses = resourcesOf(arca.template, 'AWS::Events::EventBus');
    expect(buses).toHaveLength(1);
    const [busId] = buses[0]!;
    for (const description of FUNCTIONS)
      expect(functionEnvironment(arca.template, description)[ENV.eventBus]).toEqual({ Ref: busId });
    // The API does not emit: the relay puts the events of the changes it audits.
    expect(functionEnvironment(arca.template, /^Arca API/)[ENV.eventBus]).toBeUndefined();
    const puts = resourcesOf(arca.template, 'AWS::IAM::Policy').filter(([, policy]) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('events:PutEvents'),
    );
    expect(puts).toHaveLength(3);
    for (const [, policy] of puts) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
      const put = statements.find((s) => s.Action === 'events:PutEvents')!;
      expect(put.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    }
  });

  it('is fed from the table stream by the events relay: audit inserts only, retried a day, then dead-lettered', () => {
    arca.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
    const [, mapping] = resourcesOf(arca.template, 'AWS::Lambda::EventSourceMapping').find(([, m]) =>
      JSON.stringify(m.Properties.EventSourceArn).includes('StreamArn'),
    )!;
    expect(mapping.Properties).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRecordAgeInSeconds: 86_400,
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { kind: { S: ['audit'] } } },
            }),
          },
        ],
      },
    });
    expect(JSON.stringify(mapping.Properties.DestinationConfig)).toMatch(/EventRelayDeadLetterQueue/);
    arca.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge' });
  });

  it('is named in the outputs', () => {
    arca.template.hasOutput('EventBusName', { Value: { Ref: Match.stringLikeRegexp('EventsBus') } });
  });
});

describe("the console's origin", () => {
  const consoleDistribution = () => {
    const found = resourcesOf(arca.template, 'AWS::CloudFront::Distribution').find(
      ([, d]) =>
        (d.Properties.DistributionConfig as { Comment?: string }).Comment === 'Arca console and bearer API',
    );
    if (!found) throw new Error('no console distribution');
    return found[1].Properties.DistributionConfig as Record<string, any>;
  };

  it('serves the files from a private bucket through OAC, index.html at the root', () => {
    const config = consoleDistribution();
    expect(config.DefaultRootObject).toBe('index.html');
    const s3Origin = config.Origins.find((o: any) => o.S3OriginConfig);
    expect(s3Origin.OriginAccessControlId).toBeDefined();
    expect(s3Origin.DomainName['Fn::GetAtt'][0]).toMatch(/ConsoleFiles/);
    arca.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'console-bucket/' },
    });
    expect(resourcesOf(arca.template, 'Custom::CDKBucketDeployment').length).toBeGreaterThanOrEqual(1);
  });

  it('sends /v1/* to the bearer API, uncached, with every viewer header but Host', () => {
    const config = consoleDistribution();
    const behavior = config.CacheBehaviors.find((b: any) => b.PathPattern === '/v1/*');
    expect(behavior.AllowedMethods).toContain('POST');
    expect(behavior.AllowedMethods).toContain('DELETE');
    expect(behavior.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // CachingDisabled
    expect(behavior.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac'); // AllViewerExceptHostHeader
    const apiOrigin = config.Origins.find((o: any) => o.Id === behavior.TargetOriginId);
    expect(JSON.stringify(apiOrigin.DomainName)).toMatch(/StoreApiBearerApi/);
    expect(apiOrigin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
  });

  it('answers with the same strict CSP as the local server, no framing, no referrer', () => {
    arca.template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: {
            ContentSecurityPolicy: CONSOLE_HEADERS['content-security-policy'],
            Override: true,
          },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
        }),
      }),
    });
    const config = consoleDistribution();
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toBeDefined();
  });

  it('is named in the outputs', () => {
    arca.template.hasOutput('ConsoleUrl', { Value: Match.anyValue() });
  });
});
