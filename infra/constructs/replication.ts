import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import type { BlobLifecycleOptions } from './lifecycle.ts';
import { blobBucketProps } from './lifecycle.ts';
import { acknowledgeLifecycleSizeCoercion } from './nag.ts';
import { accessLogBucket, BlobEncryption } from './storage.ts';

/**
 * The replica bucket's name, derived from account and region so the primary stack can name it without
 * a cross-stack reference (those do not work across regions). Tokens are fine: both stacks resolve
 * `AWS::AccountId` to the same account.
 */
export function replicaBucketName(account: string, region: string, prefix = 'arca-replica'): string {
  return `${prefix}-${account}-${region}`;
}

/** The replica key's alias, for the same reason as `replicaBucketName`. */
export const REPLICA_KEY_ALIAS = 'alias/arca-replica-blobs';

export interface BlobReplicaProps {
  /**
   * Physical name of the replica bucket; the primary's replication rule and CloudFront origin use it.
   * @default replicaBucketName(account, region)
   */
  readonly bucketName?: string;
  /** @default BlobEncryption.S3_MANAGED */
  readonly encryption?: BlobEncryption;
  /** Same tiers as the primary, so a failover costs the same. @default - see `BlobLifecycleOptions` */
  readonly lifecycle?: BlobLifecycleOptions;
  /**
   * Let CloudFront distributions of this account read `blobs/` through OAC, for the origin group's
   * failover. Scoped to the account, not one distribution: the distribution is created later, in
   * another region, and its id cannot be known here.
   * @default true
   */
  readonly cloudFrontAccess?: boolean;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The second-region copy of `blobs/`: versioned, encrypted like the primary, private, access-logged. */
export class BlobReplica extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly logBucket: s3.Bucket;
  public readonly encryptionKey?: kms.Key;

  constructor(scope: Construct, id: string, props: BlobReplicaProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.logBucket = accessLogBucket(this, 'AccessLogs', removalPolicy);
    if (props.encryption === BlobEncryption.KMS) {
      this.encryptionKey = new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: 'Arca replica blob bucket',
        alias: REPLICA_KEY_ALIAS,
        removalPolicy,
      });
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...blobBucketProps({
        encryptionKey: this.encryptionKey,
        logBucket: this.logBucket,
        lifecycle: props.lifecycle,
        removalPolicy,
      }),
      bucketName: props.bucketName ?? replicaBucketName(stack.account, stack.region),
    });
    acknowledgeLifecycleSizeCoercion(this.bucket);
    if (props.cloudFrontAccess ?? true) this.allowCloudFront();
  }

  private allowCloudFront(): void {
    const { partition, account } = Stack.of(this);
    const principal = new iam.ServicePrincipal('cloudfront.amazonaws.com');
    const conditions = {
      StringEquals: { 'AWS:SourceAccount': account },
      ArnLike: { 'AWS:SourceArn': `arn:${partition}:cloudfront::${account}:distribution/*` },
    };
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [principal],
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${BUCKET_LAYOUT.blobPrefix}*`)],
        conditions,
      }),
    );
    this.encryptionKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [principal],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions,
      }),
    );
  }
}
