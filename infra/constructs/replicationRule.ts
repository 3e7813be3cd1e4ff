import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import { acknowledgeResourceWildcards } from './nag.ts';

/** Where `blobs/` is copied to, named deterministically so no cross-region stack reference is needed. */
export interface BlobReplicationOptions {
  /** Name of the replica bucket (see `replicaBucketName`). */
  readonly bucketName: string;
  /** Region of the replica bucket. */
  readonly region: string;
  /**
   * Alias (`alias/…`) of the replica region's KMS key; required with `BlobEncryption.KMS`. An alias,
   * not a key id, because the key lives in another stack and region and its id is not known here.
   * @default - none (SSE-S3)
   */
  readonly kmsKeyAlias?: string;
  /**
   * S3 Replication Time Control: 99.99 % of objects within 15 minutes, billed per GB replicated.
   * @default false
   */
  readonly replicationTimeControl?: boolean;
}

/** The one rule: `blobs/` (verified content only) to the replica bucket in the other region. */
export function blobReplicationRules(
  scope: Construct,
  replication: BlobReplicationOptions,
): s3.ReplicationRule[] {
  const destination = s3.Bucket.fromBucketAttributes(scope, 'Replica', {
    bucketName: replication.bucketName,
    region: replication.region,
  });
  const rtc = replication.replicationTimeControl === true;
  return [
    {
      id: 'blobs-to-replica',
      destination,
      // Only verified content: staging/ is scratch and would double the replicated bytes.
      filter: { prefix: BUCKET_LAYOUT.blobPrefix },
      priority: 1,
      // GC deletes must reach the replica too, or it keeps every blob forever.
      deleteMarkerReplication: true,
      replicationTimeControl: rtc ? s3.ReplicationTimeValue.FIFTEEN_MINUTES : undefined,
      metrics: rtc ? s3.ReplicationTimeValue.FIFTEEN_MINUTES : undefined,
      kmsKey: replication.kmsKeyAlias
        ? kms.Key.fromKeyArn(scope, 'ReplicaKey', aliasArn(scope, replication))
        : undefined,
      sseKmsEncryptedObjects: replication.kmsKeyAlias !== undefined ? true : undefined,
    },
  ];
}

/** Least privilege: read versions of blobs/ here, write replicas of blobs/ there, nothing else. */
export function grantBlobReplication(
  role: iam.Role,
  bucket: s3.IBucket,
  encryptionKey: kms.IKey | undefined,
  replication: BlobReplicationOptions,
): void {
  const { partition, account } = Stack.of(role);
  const destinationArn = `arn:${partition}:s3:::${replication.bucketName}`;
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
      resources: [bucket.bucketArn],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
      resources: [bucket.arnForObjects(`${BUCKET_LAYOUT.blobPrefix}*`)],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
      resources: [`${destinationArn}/${BUCKET_LAYOUT.blobPrefix}*`],
    }),
  );
  acknowledgeResourceWildcards(
    role,
    [bucket.arnForObjects(`${BUCKET_LAYOUT.blobPrefix}*`), `${destinationArn}/${BUCKET_LAYOUT.blobPrefix}*`],
    'Replication reads and writes every object under blobs/ by definition; actions are named.',
  );
  encryptionKey?.grant(role, 'kms:Decrypt');
  if (replication.kmsKeyAlias !== undefined) {
    // IAM authorises KMS calls on the key ARN, never the alias, so match keys by the alias they carry.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [`arn:${partition}:kms:${replication.region}:${account}:key/*`],
        conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': replication.kmsKeyAlias } },
      }),
    );
    acknowledgeResourceWildcards(
      role,
      [`arn:${partition}:kms:${replication.region}:${account}:key/*`],
      'The replica key is known only by its alias (another region and stack); kms:ResourceAliases pins it.',
    );
  }
}

function aliasArn(scope: Construct, replication: BlobReplicationOptions): string {
  const { partition, account } = Stack.of(scope);
  return `arn:${partition}:kms:${replication.region}:${account}:${replication.kmsKeyAlias}`;
}
