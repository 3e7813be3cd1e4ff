import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import { acknowledgeResourceWildcards } from './nag.ts';

/**
 * Where `blobs/` is copied to. Name and key come from the replica stack (`BlobReplica`), usually as
 * cross-region references (CloudFormation `Fn::GetStackOutput`), so neither is a fixed name.
 */
export interface BlobReplicationOptions {
  /** Name of the replica bucket. */
  readonly bucketName: string;
  /** Region of the replica bucket. */
  readonly region: string;
  /**
   * ARN of the replica region's KMS key; required with `BlobEncryption.KMS`.
   * @default - none (SSE-S3)
   */
  readonly kmsKeyArn?: string;
  /**
   * Storage class replicas are written in. STANDARD_IA halves the replica's storage bill for blobs
   * of 128 KiB and more (its minimum billable size); it is read only on a failover.
   * @default s3.StorageClass.INFREQUENT_ACCESS
   */
  readonly storageClass?: s3.StorageClass;
  /**
   * S3 Replication Time Control: 99.99 % of objects within 15 minutes, billed per GB replicated.
   * @default false
   */
  readonly replicationTimeControl?: boolean;
}

/** Id of the replication rule, a dimension of S3's replication metrics. */
export const BLOB_REPLICATION_RULE_ID = 'blobs-to-replica';

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
      id: BLOB_REPLICATION_RULE_ID,
      destination,
      // Only verified content: staging/ is scratch and would double the replicated bytes.
      filter: { prefix: BUCKET_LAYOUT.blobPrefix },
      priority: 1,
      // GC deletes must reach the replica too, or it keeps every blob forever.
      deleteMarkerReplication: true,
      replicationTimeControl: rtc ? s3.ReplicationTimeValue.FIFTEEN_MINUTES : undefined,
      // Replication metrics (also without RTC): the ReplicationFailures alarm reads them.
      metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
      storageClass: replication.storageClass ?? s3.StorageClass.INFREQUENT_ACCESS,
      kmsKey: replication.kmsKeyArn
        ? kms.Key.fromKeyArn(scope, 'ReplicaKey', replication.kmsKeyArn)
        : undefined,
      sseKmsEncryptedObjects: replication.kmsKeyArn !== undefined ? true : undefined,
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
  const { partition } = Stack.of(role);
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
  if (replication.kmsKeyArn !== undefined)
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [replication.kmsKeyArn],
      }),
    );
}
