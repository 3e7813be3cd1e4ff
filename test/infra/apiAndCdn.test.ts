import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CDN_ENV } from '../../infra/constructs/cdn.ts';
import { functionEnvironment, resourcesOf, type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  arca = synthArca();
});

describe('HTTP API', () => {
  /** Route key → authorization type, for the API whose description matches. */
  const routes = (description: RegExp) => {
    const [apiId] = resourcesOf(arca.template, 'AWS::ApiGatewayV2::Api').find(([, r]) =>
      description.test(String(r.Properties.Description)),
    )!;
    return Object.fromEntries(
      resourcesOf(arca.template, 'AWS::ApiGatewayV2::Route')
        .filter(([, r]) => (r.Properties.ApiId as { Ref?: string }).Ref === apiId)
        .map(([, r]) => [r.Properties.RouteKey as string, r.Properties.AuthorizationType as string]),
    );
  };

  it('leaves only GET /v1/health unauthenticated on the SigV4 API and signs everything else with IAM', () => {
    expect(routes(/SigV4/)).toEqual({
      'GET /v1/health': 'NONE',
      'ANY /v1/{proxy+}': 'AWS_IAM',
      'POST /v1/uploads/{uploadId}/commit': 'AWS_IAM',
      'GET /v1/packages/{ns}/{pkg}/versions/{version}/files/{name}': 'AWS_IAM',
    });
  });

  it('serves the same routes on the bearer API with no API Gateway authorizer: the function verifies tokens', () => {
    expect(routes(/bearer/)).toEqual({
      'GET /v1/health': 'NONE',
      'ANY /v1/{proxy+}': 'NONE',
      'POST /v1/uploads/{uploadId}/commit': 'NONE',
      'GET /v1/packages/{ns}/{pkg}/versions/{version}/files/{name}': 'NONE',
    });
    arca.template.resourceCountIs('AWS::ApiGatewayV2::Api', 2);
    arca.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    const targets = resourcesOf(arca.template, 'AWS::ApiGatewayV2::Integration').map(
      ([, r]) => r.Properties.IntegrationUri,
    );
    expect(targets).toHaveLength(2);
    expect(targets[0]).toEqual(targets[1]);
    expect(JSON.stringify(targets[0])).toMatch(/ApiFunction/);
  });

  it('gives both API URLs as outputs', () => {
    arca.template.hasOutput('ApiUrl', { Value: Match.anyValue() });
    arca.template.hasOutput('BearerApiUrl', { Value: Match.anyValue() });
  });

  it('throttles both default stages alike, keeps per-route metrics and writes access logs', () => {
    arca.template.resourcePropertiesCountIs(
      'AWS::ApiGatewayV2::Stage',
      {
        StageName: '$default',
        DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 }),
      },
      2,
    );
    arca.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: 1000,
        ThrottlingBurstLimit: 2000,
        DetailedMetricsEnabled: true,
      },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('lets the GitHub OIDC role invoke the SigV4 API and nothing else', () => {
    arca.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
              StringLike: {
                'token.actions.githubusercontent.com:sub': ['repo:acme/widgets:ref:refs/heads/main'],
              },
            },
          }),
        ],
      },
    });
    const [sigV4Api] = resourcesOf(arca.template, 'AWS::ApiGatewayV2::Api').find(([, r]) =>
      /SigV4/.test(String(r.Properties.Description)),
    )!;
    arca.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('GitHubCiRole') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'execute-api:Invoke',
            Resource: { 'Fn::Join': ['', Match.arrayWith([{ Ref: sigV4Api }])] },
          }),
        ],
      },
    });
  });
});

describe('CloudFront', () => {
  it('reaches the bucket through an S3 origin access control that signs every request', () => {
    arca.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
    const { Origins } = distributionConfig();
    expect(Origins).toHaveLength(2);
    for (const origin of Origins as { OriginAccessControlId: unknown; S3OriginConfig: unknown }[]) {
      expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Cdn/), 'Id'] });
      expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    }
  });

  it('admits CloudFront to blobs/ of the primary bucket only, for this distribution', () => {
    arca.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', [Match.anyValue(), '/blobs/sha256/*']] },
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
    arca.replicaTemplate.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' }),
        ]),
      },
    });
  });

  it('fails over from the primary bucket to the replica on 5xx', () => {
    const config = distributionConfig();
    const group = (config.OriginGroups as { Items: Record<string, unknown>[] }).Items[0];
    expect(group).toMatchObject({
      FailoverCriteria: { StatusCodes: { Items: [500, 502, 503, 504], Quantity: 4 } },
      Members: { Quantity: 2 },
    });
    const domains = (config.Origins as { DomainName: unknown }[]).map((o) => JSON.stringify(o.DomainName));
    expect(domains.some((d) => d.includes('StoreStorageBucket'))).toBe(true);
    // The replica's generated name, read from its stack in the other region.
    expect(domains.some((d) => d.includes('Fn::GetStackOutput') && d.includes('.s3.us-west-2.'))).toBe(true);
  });

  it('serves HTTPS only, GET/HEAD only, to signed URLs of the key group', () => {
    expect(distributionConfig().DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD'],
      TrustedKeyGroups: [{ Ref: expect.stringMatching(/SigningKeyGroup/) }],
    });
    arca.template.hasResourceProperties('AWS::CloudFront::KeyGroup', {
      KeyGroupConfig: { Items: [{ Ref: Match.stringLikeRegexp('SigningPublicKey') }] },
    });
    // The public half of the pair generated inside AWS at deploy, returned by the custom resource.
    arca.template.hasResourceProperties('AWS::CloudFront::PublicKey', {
      PublicKeyConfig: {
        EncodedKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('CdnKeyPair'), 'PublicKeyPem'] },
      },
    });
  });

  it('caches content-addressed blobs as immutable for a year', () => {
    const year = 365 * 24 * 3600;
    arca.template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: { DefaultTTL: year, MinTTL: year, MaxTTL: year },
    });
  });

  it('lets api read the signing private key and tells it where to sign', () => {
    const env = functionEnvironment(arca.template, /^Arca API/);
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.values(CDN_ENV)));
    arca.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ApiFunctionServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: Match.arrayWith([{ Ref: Match.stringLikeRegexp('CdnKeyPairPrivateKey') }]),
          }),
        ]),
      },
    });
  });
});

function distributionConfig(): Record<string, unknown> {
  const [distribution] = resourcesOf(arca.template, 'AWS::CloudFront::Distribution');
  return distribution?.[1].Properties.DistributionConfig as Record<string, unknown>;
}
