import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { publicKeySha256 } from '../../functions/adapters/aws/cloudFrontUrls.ts';
import { coreConfigFromEnv } from '../../functions/config/coreConfig.ts';
import { ENV } from '../../functions/config/env.ts';
import { createUpload } from '../../functions/core/uploads.ts';
import { ArtifactStore } from '../../infra/constructs/artifactStore.ts';
import { admin, coreHarness } from '../support/coreHarness.ts';
import { defaultSynth, PUBLIC_KEY_FILE, resourcesOf } from './support.ts';

/** Properties that are physical names unique in an account (and region), by resource type. */
const NAME_PATHS: Record<string, string[]> = {
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::DynamoDB::GlobalTable': ['TableName'],
  'AWS::DynamoDB::Table': ['TableName'],
  'AWS::KMS::Alias': ['AliasName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::IAM::ManagedPolicy': ['ManagedPolicyName'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::Events::Rule': ['Name'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
  'AWS::CloudFront::PublicKey': ['PublicKeyConfig.Name'],
  'AWS::CloudFront::KeyGroup': ['KeyGroupConfig.Name'],
  'AWS::CloudFront::OriginAccessControl': ['OriginAccessControlConfig.Name'],
  'AWS::CloudFront::CachePolicy': ['CachePolicyConfig.Name'],
};

interface PhysicalName {
  readonly id: string;
  readonly type: string;
  readonly value: unknown;
  readonly retained: boolean;
}

function physicalNames(template: Template): PhysicalName[] {
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }
  >;
  return Object.entries(resources).flatMap(([id, r]) =>
    (NAME_PATHS[r.Type] ?? []).flatMap((path) => {
      const value = path
        .split('.')
        .reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], r.Properties);
      return value === undefined
        ? []
        : [{ id, type: r.Type, value, retained: r.DeletionPolicy === 'Retain' }];
    }),
  );
}

let arca: ReturnType<typeof defaultSynth>;
beforeAll(() => {
  arca = defaultSynth();
});

describe('the default synth (account, region and replicaRegion only)', () => {
  it('has CloudFront with a key group trusting a key pair made by a custom resource, its private key in a secret', () => {
    // Downloads' distribution (the key group's) and the console's (docs/deploy.md).
    arca.template.resourceCountIs('AWS::CloudFront::Distribution', 2);
    arca.template.resourceCountIs('AWS::CloudFront::KeyGroup', 1);
    arca.template.hasResourceProperties('Custom::ArcaCdnKeyPair', {
      SecretArn: { Ref: Match.stringLikeRegexp('CdnKeyPairPrivateKey') },
      Generation: '1',
    });
    arca.template.hasResource('AWS::SecretsManager::Secret', {
      Properties: { Description: Match.stringLikeRegexp('CloudFront URL signing private key') },
      DeletionPolicy: 'Retain',
    });
    arca.template.hasResourceProperties('AWS::CloudFront::PublicKey', {
      PublicKeyConfig: {
        EncodedKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('CdnKeyPair'), 'PublicKeyPem'] },
      },
    });
  });

  it('tells api the public key fingerprint, so a private key that does not match is refused', () => {
    const env = apiEnv(arca.template);
    expect(env[ENV.cdnPublicKeySha256]).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/CdnKeyPair/), 'PublicKeySha256'],
    });
  });

  it('rotates the key pair by a context bump: a new generation and a new public key resource', () => {
    const rotated = defaultSynth({ cdnKeyGeneration: '2' });
    rotated.template.hasResourceProperties('Custom::ArcaCdnKeyPair', { Generation: '2' });
    const ids = resourcesOf(rotated.template, 'AWS::CloudFront::PublicKey').map(([id]) => id);
    expect(ids).toEqual([expect.stringMatching(/SigningPublicKey2/)]);
  });

  it('trusts a public key of your own instead, fingerprinted at synth, with no custom resource', () => {
    const own = defaultSynth({ signingPublicKeyFile: PUBLIC_KEY_FILE });
    own.template.resourceCountIs('Custom::ArcaCdnKeyPair', 0);
    const pem = readFileSync(PUBLIC_KEY_FILE, 'utf8');
    own.template.hasResourceProperties('AWS::CloudFront::PublicKey', {
      PublicKeyConfig: { EncodedKey: pem },
    });
    expect(apiEnv(own.template)[ENV.cdnPublicKeySha256]).toBe(publicKeySha256(pem));
  });

  it('reserves no concurrency for any function', () => {
    for (const [id, fn] of resourcesOf(arca.template, 'AWS::Lambda::Function'))
      expect(fn.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
  });

  it('puts no secret value in any function environment: secrets are named by ARN and read at run time', () => {
    const functions = resourcesOf(arca.template, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const [id, fn] of functions) {
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      const text = JSON.stringify(variables ?? {});
      expect(text, id).not.toMatch(/resolve:secretsmanager|resolve:ssm-secure|SecretString|PRIVATE KEY/);
      expect(Object.keys(variables ?? {}), id).not.toContain(ENV.cursorSecret);
    }
    expect(apiEnv(arca.template)[ENV.cursorSecretArn]).toEqual({
      Ref: expect.stringMatching(/CursorSecret/),
    });
  });

  it('refuses files larger than the scan provably finishes in its 15 minutes (24 GiB at batch size 1)', async () => {
    expect(arca.primary.store.scan.maxFileSize).toBe(24 * 1024 ** 3);
    expect(apiEnv(arca.template)[ENV.maxFileSize]).toBe(String(24 * 1024 ** 3));
    arca.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Arca scan'),
      Timeout: 900,
      MemorySize: 1769,
    });
    // What the api function does with it: 413 TooLarge at upload creation, before any byte moves.
    const h = coreHarness();
    const deps = { ...h.deps, config: coreConfigFromEnv({ [ENV.maxFileSize]: String(24 * 1024 ** 3) }) };
    const file = (size: number) => ({
      name: 'disk.img',
      size,
      sha256: 'ab'.repeat(32),
      mediaType: 'application/octet-stream',
    });
    const upload = (size: number) =>
      createUpload(deps, admin, {
        namespace: 'demo',
        package: 'vm',
        version: String(size),
        metadata: {},
        files: [file(size)],
      });
    await expect(upload(24 * 1024 ** 3 + 1)).rejects.toMatchObject({
      code: 'TooLarge',
      details: { maxFileSize: 24 * 1024 ** 3 },
    });
    h.close();
    // Two records per invocation share the timeout: each may be half as large.
    expect(defaultSynth({ scanBatchSize: '2' }).primary.store.scan.maxFileSize).toBe(12 * 1024 ** 3);
  });
});

describe('physical names', () => {
  it('are generated or derived from the stack name, and never fixed on a retained resource', () => {
    expect(physicalNames(arca.template).filter((n) => typeof n.value === 'string').length).toBeGreaterThan(3);
    for (const template of [arca.template, arca.replicaTemplate])
      for (const name of physicalNames(template)) {
        if (typeof name.value === 'string') expect(name.value, name.id).toMatch(/^Arca/);
        // A retained resource keeps its name after `cdk destroy`: a fixed one would block the redeploy.
        if (name.retained) expect(typeof name.value, name.id).not.toBe('string');
      }
  });

  it('differ between two stores in one account (another stackName)', () => {
    const other = defaultSynth({ stackName: 'ArcaTwo' });
    expect(other.primary.stackName).toBe('ArcaTwo');
    expect(other.replica.stackName).toBe('ArcaTwoReplica');
    // A name built from a Ref or GetAtt is the referenced resource's generated name: not fixed.
    const literal = (templates: Template[]) =>
      new Set(
        templates
          .flatMap((t) => physicalNames(t).map((n) => JSON.stringify(n.value)))
          .filter((name) => !name.includes('"Ref"') && !name.includes('"Fn::GetAtt"')),
      );
    const first = literal([arca.template, arca.replicaTemplate]);
    const second = literal([other.template, other.replicaTemplate]);
    expect([...first].filter((name) => second.has(name))).toEqual([]);
  });

  it('let two ArtifactStore instances synthesize side by side in one stack', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Shared', { env: { account: '111111111111', region: 'us-east-1' } });
    const one = new ArtifactStore(stack, 'One');
    const two = new ArtifactStore(stack, 'Two', { cdnKeyGeneration: 3, githubRepository: 'acme/two' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudFront::Distribution', 4);
    template.resourceCountIs('Custom::ArcaCdnKeyPair', 2);
    const names = physicalNames(template).map((n) => JSON.stringify(n.value));
    expect(new Set(names).size).toBe(names.length);
    expect(one.cdn?.privateKeySecret).not.toBe(two.cdn?.privateKeySecret);
  });
});

describe('alarms', () => {
  const topicOf = (alarm: { Properties: Record<string, unknown> }) => alarm.Properties.AlarmActions;

  it('notify a topic created for them by default, every one of them', () => {
    const alarms = resourcesOf(arca.template, 'AWS::CloudWatch::Alarm');
    const [[topicId] = []] = resourcesOf(arca.template, 'AWS::SNS::Topic');
    for (const [id, alarm] of alarms) expect(topicOf(alarm), id).toEqual([{ Ref: topicId }]);
    arca.template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
  });

  it('cover Lambda throttles, scan queue age, DynamoDB throttles, replication failures, CloudFront 5xx and an unusable signing key', () => {
    const ids = resourcesOf(arca.template, 'AWS::CloudWatch::Alarm').map(([id]) => id);
    for (const name of [
      'ApiThrottles',
      'ScanThrottles',
      'GcThrottles',
      'ScanQueueAge',
      'IndexThrottles',
      'ReplicationFailures',
      'Cdn5xxRate',
      'CdnKeyUnavailable',
    ])
      expect(
        ids.some((id) => id.includes(`Alarms${name}`)),
        name,
      ).toBe(true);
    arca.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/S3',
      MetricName: 'OperationsFailedReplication',
      Dimensions: Match.arrayWith([{ Name: 'RuleId', Value: 'blobs-to-replica' }]),
    });
    arca.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Arca',
      MetricName: 'CdnKeyUnavailable',
      Dimensions: [{ Name: 'service', Value: 'arca-cdn' }],
    });
  });

  it('notify the topic given by context instead, and no topic is created', () => {
    const arn = 'arn:aws:sns:us-east-1:111111111111:ops';
    const given = defaultSynth({ alarmTopicArn: arn });
    given.template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const [id, alarm] of resourcesOf(given.template, 'AWS::CloudWatch::Alarm'))
      expect(topicOf(alarm), id).toEqual([arn]);
  });
});

describe('construct API and context', () => {
  it('reuses an existing GitHub OIDC provider by context', () => {
    const arn = 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com';
    const { template } = defaultSynth({ githubRepository: 'acme/widgets', githubOidcProviderArn: arn });
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Federated: arn } })],
      },
    });
  });

  it('reaches price class, custom domain, scan, throttle, retention and replica class from context', () => {
    const { template } = defaultSynth({
      priceClass: 'PriceClass_All',
      cdnDomainNames: 'dl.example.com',
      cdnCertificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/abc',
      scanMemorySize: '3008',
      scanMaxConcurrency: '20',
      apiThrottleRate: '5000',
      apiThrottleBurst: '8000',
      logRetentionDays: '90',
      replicaStorageClass: 'GLACIER_IR',
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        PriceClass: 'PriceClass_All',
        Aliases: ['dl.example.com'],
        ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2021' }),
      }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Arca scan'),
      MemorySize: 3008,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 5000, ThrottlingBurstLimit: 8000 }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Rules: [Match.objectLike({ Destination: Match.objectLike({ StorageClass: 'GLACIER_IR' }) })],
      },
    });
  });

  it('refuses context values it cannot use, naming the key', () => {
    expect(() => defaultSynth({ replicaStorageClass: 'DEEP' })).toThrow(/replicaStorageClass/);
    expect(() => defaultSynth({ priceClass: 'Cheap' })).toThrow(/priceClass/);
    expect(() => defaultSynth({ logRetentionDays: '31' })).toThrow(/logRetentionDays/);
    expect(() => defaultSynth({ scanMaxConcurrency: '1' })).toThrow(/maxConcurrency/);
    expect(() => defaultSynth({ cdnDomainNames: 'dl.example.com' })).toThrow(/certificate/);
  });

  it('grants IAM principals the SigV4 API: every route to publishers, GET routes to readers', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Consumer', { env: { account: '111111111111', region: 'us-east-1' } });
    const store = new ArtifactStore(stack, 'Store', { cdn: false });
    const publisher = new iam.Role(stack, 'Publisher', { assumedBy: new iam.AccountRootPrincipal() });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    store.grantPublish(publisher);
    store.grantRead(reader);
    const template = Template.fromStack(stack);
    const invoke = (role: string, suffix: string) =>
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(role) }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Action: 'execute-api:Invoke',
              Resource: { 'Fn::Join': ['', Match.arrayWith([suffix])] },
            }),
          ],
        },
      });
    invoke('Publisher', '/*/*/v1/*');
    invoke('Reader', '/*/GET/v1/*');
  });

  it('takes a bucket, table and key of your own instead of creating them', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Byo', { env: { account: '111111111111', region: 'us-east-1' } });
    new ArtifactStore(stack, 'Store', {
      bucket: s3.Bucket.fromBucketName(stack, 'Mine', 'my-artifacts'),
      table: dynamodb.TableV2.fromTableName(stack, 'MyTable', 'my-index'),
      encryptionKey: kms.Key.fromKeyArn(stack, 'MyKey', 'arn:aws:kms:us-east-1:111111111111:key/abc'),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    // Only the access-log bucket and the console's are Arca's own.
    template.resourceCountIs('AWS::S3::Bucket', 2);
    expect(apiEnv(template)[ENV.bucket]).toBe('my-artifacts');
    expect(apiEnv(template)[ENV.table]).toBe('my-index');
  });
});

function apiEnv(template: Template): Record<string, unknown> {
  const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([, r]) =>
    /^Arca API/.test(String(r.Properties.Description)),
  )!;
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}
