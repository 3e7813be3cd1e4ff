import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateLifecycle } from '../../infra/constructs/lifecycle.ts';
import { BlobEncryption, BlobStorage } from '../../infra/constructs/storage.ts';
import { type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  arca = synthArca();
});

const blobBucket = () =>
  arca.template.findResources('AWS::S3::Bucket', {
    Properties: { VersioningConfiguration: Match.anyValue() },
  });

describe('blob bucket', () => {
  it('is versioned, SSE-encrypted, private, owner-enforced and access-logged', () => {
    arca.template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('AccessLogs') } },
    });
    expect(Object.keys(blobBucket())).toHaveLength(1);
  });

  it('denies every request that is not TLS', () => {
    arca.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('StoreStorageBucket') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires staging/ after 2 days and aborts multipart uploads after 1 day bucket-wide (blobs/ copies too)', () => {
    arca.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'staging/', ExpirationInDays: 2 }),
          {
            Id: 'abort-incomplete-multipart',
            Status: 'Enabled',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ]),
      },
    });
  });

  it('moves blobs/ larger than 1 MiB to STANDARD_IA at 30 days and GLACIER_IR at 90 days', () => {
    arca.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'blobs/sha256/',
            ObjectSizeGreaterThan: 1048576,
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
            ],
          }),
        ]),
      },
    });
  });

  it('expires noncurrent versions', () => {
    arca.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]),
      },
    });
  });

  it('notifies the scan queue of ObjectCreated under staging/ only', () => {
    arca.template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'staging/' }] } },
            QueueArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('StoreScanQueue'), 'Arn'] },
          },
        ],
      },
    });
  });
});

describe('lifecycle validation', () => {
  const day = Duration.days;
  it.each([
    [[{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, after: day(20) }], /at least 30 days/],
    [
      [
        { storageClass: s3.StorageClass.INFREQUENT_ACCESS, after: day(30) },
        { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, after: day(45) },
      ],
      /must be ≥ 60 days/,
    ],
    [
      [
        { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, after: day(90) },
        { storageClass: s3.StorageClass.INFREQUENT_ACCESS, after: day(60) },
      ],
      /must come after/,
    ],
    [[{ storageClass: s3.StorageClass.DEEP_ARCHIVE, after: day(180) }], /millisecond-read/],
  ])('rejects tiers %#', (tiers, message) => {
    expect(() => validateLifecycle({ tiers })).toThrow(message);
  });

  it('rejects a transition size under 128 KiB', () => {
    expect(() => validateLifecycle({ minimumTransitionSize: Size.kibibytes(64) })).toThrow(/128 KiB/);
  });

  it('accepts custom tiers that respect the minimum durations', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }));
    new BlobStorage(stack, 'Storage', {
      lifecycle: {
        tiers: [
          { storageClass: s3.StorageClass.INFREQUENT_ACCESS, after: day(45) },
          { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, after: day(75) },
        ],
        noncurrentVersionExpiration: day(7),
      },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
          Match.objectLike({
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 45 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 75 },
            ],
          }),
        ]),
      },
    });
  });

  it('refuses KMS replication without the replica key ARN', () => {
    const stack = new Stack();
    expect(
      () =>
        new BlobStorage(stack, 'Storage', {
          encryption: BlobEncryption.KMS,
          replication: { bucketName: 'replica', region: 'eu-west-1' },
        }),
    ).toThrow(/kmsKeyArn/);
  });
});

describe('cross-region replication', () => {
  /** The replica bucket's name, generated by CloudFormation and read from the replica stack. */
  const replicaOutput = Match.objectLike({ StackName: 'ArcaReplica', Region: 'us-west-2' });

  it('replicates blobs/ (not staging/) as STANDARD_IA to the replica named by its own stack, with delete markers and metrics', () => {
    arca.template.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReplicationRole'), 'Arn'] },
        Rules: [
          Match.objectLike({
            Status: 'Enabled',
            Filter: { Prefix: 'blobs/sha256/' },
            Destination: Match.objectLike({
              Bucket: { 'Fn::Join': ['', ['arn:aws:s3:::', { 'Fn::GetStackOutput': replicaOutput }]] },
              StorageClass: 'STANDARD_IA',
              Metrics: { Status: 'Enabled' },
            }),
            DeleteMarkerReplication: { Status: 'Enabled' },
          }),
        ],
      },
    });
  });

  it('gives the replication role only the replication actions, scoped to blobs/', () => {
    arca.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ReplicationRole') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'] }),
          Match.objectLike({
            Action: [
              's3:GetObjectVersionAcl',
              's3:GetObjectVersionForReplication',
              's3:GetObjectVersionTagging',
            ],
            Resource: { 'Fn::Join': ['', [Match.anyValue(), '/blobs/sha256/*']] },
          }),
          Match.objectLike({
            Action: ['s3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateTags'],
            Resource: {
              'Fn::Join': ['', ['arn:aws:s3:::', { 'Fn::GetStackOutput': replicaOutput }, '/blobs/sha256/*']],
            },
          }),
        ],
      },
    });
  });

  it('creates the replica bucket in the second region, versioned and encrypted', () => {
    expect(arca.replica.region).toBe('us-west-2');
    arca.replicaTemplate.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: Match.absent(),
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('deploys the replica before the primary', () => {
    expect(arca.primary.dependencies).toContain(arca.replica);
  });
});
