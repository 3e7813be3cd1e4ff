import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createArcaApp } from '../../infra/arcaApp.ts';
import { REPLICA_KEY_ALIAS } from '../../infra/constructs/replication.ts';
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

  it('encrypts the replica with its own key, found by a fixed alias', () => {
    arca.replicaTemplate.hasResourceProperties('AWS::KMS::Alias', { AliasName: REPLICA_KEY_ALIAS });
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
                ReplicaKmsKeyID: `arn:aws:kms:us-west-2:111111111111:${REPLICA_KEY_ALIAS}`,
              },
              ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
              Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
            }),
          }),
        ],
      },
    });
  });

  it('lets the replication role encrypt only with the key carrying the replica alias', () => {
    arca.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ReplicationRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
            Resource: 'arn:aws:kms:us-west-2:111111111111:key/*',
            Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': REPLICA_KEY_ALIAS } },
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
  it('builds no distribution without a signing public key', () => {
    const { primary } = createArcaApp({
      builtinCloudFormationValidation: false,
      context: cdkContext({ 'aws:cdk:bundling-stacks': [] }),
    });
    expect(primary.store.cdn).toBeUndefined();
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
