import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createArcaApp } from '../../infra/arcaApp.ts';
import { cdkContext, type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  arca = synthArca({ encryption: 'KMS', replicationTimeControl: 'true', replicateIndex: 'true' });
});

describe('KMS encryption', () => {
  it('encrypts the primary with a rotated customer key and S3 Bucket Keys', () => {
    arca.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    arca.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
          },
        ],
      },
    });
  });

  it('encrypts the replica with its own key, named by no fixed alias', () => {
    arca.replicaTemplate.resourceCountIs('AWS::KMS::Alias', 0);
    arca.replicaTemplate.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
    });
  });

  it('replicates KMS-encrypted objects under the replica key, with Replication Time Control', () => {
    arca.template.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Rules: [
          Match.objectLike({
            SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
            Destination: Match.objectLike({
              EncryptionConfiguration: {
                ReplicaKmsKeyID: { 'Fn::GetStackOutput': Match.objectLike({ Region: 'us-west-2' }) },
              },
              ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
              Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
            }),
          }),
        ],
      },
    });
  });

  it('lets the replication role encrypt only with the replica key, read across regions', () => {
    arca.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ReplicationRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'ArcaReplica' }) },
          }),
        ]),
      },
    });
  });
});

describe('DynamoDB replica region', () => {
  it('adds a global-table replica in the second region, also with PITR', () => {
    arca.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'us-west-2',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]),
    });
  });
});

describe('app context', () => {
  it('builds CloudFront with a generated key pair by default, and none with cdn=false', () => {
    const build = (extra: Record<string, unknown>) =>
      createArcaApp({
        builtinCloudFormationValidation: false,
        context: cdkContext({ 'aws:cdk:bundling-stacks': [], ...extra }),
      }).primary.store;
    expect(build({}).cdn?.keyPair).toBeDefined();
    expect(build({ cdn: 'false' }).cdn).toBeUndefined();
  });

  it('refuses an unknown encryption', () => {
    expect(() => createArcaApp({ context: cdkContext({ encryption: 'ROT13' }) })).toThrow(
      /S3_MANAGED or KMS/,
    );
  });

  it('refuses a replica in the primary region', () => {
    expect(() =>
      createArcaApp({ context: cdkContext({ replicaRegion: 'us-east-1', 'aws:cdk:bundling-stacks': [] }) }),
    ).toThrow(/must differ/);
  });
});
