import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import { type BlobLifecycleOptions, blobBucketProps } from './lifecycle.ts';
import { acknowledgeLifecycleSizeCoercion, acknowledgeResourceWildcards } from './nag.ts';
import {
  type BlobReplicationOptions,
  blobReplicationRules,
  grantBlobReplication,
} from './replicationRule.ts';

/** How blob bytes are encrypted at rest, in both regions. */
export type { BlobReplicationOptions } from './replicationRule.ts';

export enum BlobEncryption {
  /** SSE-S3: free, no key to manage. */
  S3_MANAGED = 'S3_MANAGED',
  /** SSE-KMS with a customer managed key per region (≈ $1/month each), S3 Bucket Keys on. */
  KMS = 'KMS',
}

export interface BlobStorageProps {
  /**
   * Bring your own blob bucket instead of creating one. Arca then manages none of its settings:
   * versioning, lifecycle (tiers, staging expiry, abort-incomplete-multipart), replication, TLS-only
   * and the CloudFront bucket-policy statement are yours to set (docs/deploy.md, "Bring your own").
   * @default - a new bucket
   */
  readonly bucket?: s3.IBucket;
  /**
   * Bring your own KMS key for the blob bucket (with `BlobEncryption.KMS`, or the key of your own
   * `bucket`).
   * @default - a new rotated key with `BlobEncryption.KMS`, none otherwise
   */
  readonly encryptionKey?: kms.IKey;
  /** @default BlobEncryption.S3_MANAGED */
  readonly encryption?: BlobEncryption;
  /** @default - see `BlobLifecycleOptions` */
  readonly lifecycle?: BlobLifecycleOptions;
  /** @default - no replication */
  readonly replication?: BlobReplicationOptions;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** A bucket for server access logs: SSE-S3 (log delivery cannot use KMS), TLS only, expiring. */
export function accessLogBucket(scope: Construct, id: string, removalPolicy: RemovalPolicy): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    // CloudFront standard logging writes with ACLs, so the owner must be able to take them over.
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    versioned: false,
    lifecycleRules: [{ expiration: Duration.days(90) }],
    removalPolicy,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This is the access-log bucket itself; logging it to itself would loop.',
  });
  return bucket;
}

/**
 * The blob bucket: `staging/` for uploads, `blobs/sha256/…` for verified content. Versioned, encrypted,
 * TLS-only, private, access-logged, tiered, and optionally replicated to a second region.
 */
export class BlobStorage extends Construct {
  public readonly bucket: s3.IBucket;
  /** Server access logs of the blob bucket (when created here) and CloudFront's standard logs. */
  public readonly logBucket: s3.Bucket;
  /** The customer managed key, with `BlobEncryption.KMS` or when brought. */
  public readonly encryptionKey?: kms.IKey;
  /** Whether `bucket` was created here (and so carries Arca's lifecycle, policy and replication). */
  public readonly ownsBucket: boolean;
  /** The role S3 replicates with, when replication is on. */
  public readonly replicationRole?: iam.Role;

  constructor(scope: Construct, id: string, props: BlobStorageProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.logBucket = accessLogBucket(this, 'AccessLogs', removalPolicy);
    this.encryptionKey =
      props.encryptionKey ??
      (props.encryption === BlobEncryption.KMS && props.bucket === undefined
        ? new kms.Key(this, 'Key', {
            enableKeyRotation: true,
            description: 'Arca blob bucket',
            removalPolicy,
          })
        : undefined);
    this.ownsBucket = props.bucket === undefined;
    const replication = props.replication;
    if (props.bucket !== undefined) {
      if (replication !== undefined)
        throw new Error('replication needs a bucket Arca creates; configure replication on your own bucket');
      this.bucket = props.bucket;
      return;
    }
    if (replication !== undefined) {
      if (this.encryptionKey !== undefined && replication.kmsKeyArn === undefined)
        throw new Error('replication.kmsKeyArn is required when encryption is BlobEncryption.KMS');
      this.replicationRole = new iam.Role(this, 'ReplicationRole', {
        assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
        description: 'S3 replication of Arca blobs/ to the replica region',
      });
    }
    const bucket = new s3.Bucket(this, 'Bucket', {
      ...blobBucketProps({
        encryptionKey: this.encryptionKey,
        logBucket: this.logBucket,
        lifecycle: props.lifecycle,
        removalPolicy,
      }),
      replicationRole: this.replicationRole,
      replicationRules: replication && blobReplicationRules(this, replication),
    });
    this.bucket = bucket;
    acknowledgeLifecycleSizeCoercion(bucket);
    if (replication && this.replicationRole)
      grantBlobReplication(this.replicationRole, bucket, this.encryptionKey, replication);
  }

  /**
   * What `api` needs: sign PUTs (single and multipart) into `staging/`, check and delete staged
   * objects, check and sign GETs of blobs. Sets `ARCA_BUCKET`.
   */
  public grantPublish(fn: lambda.Function): void {
    fn.addEnvironment(ENV.bucket, this.bucket.bucketName);
    this.grantObjects(fn, BUCKET_LAYOUT.stagingPrefix, [
      's3:PutObject',
      's3:GetObject',
      's3:DeleteObject',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
    ]);
    this.grantObjects(fn, BUCKET_LAYOUT.blobPrefix, ['s3:GetObject']);
    this.grantList(fn);
    this.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
  }

  /** What `scan` needs: read and delete staged bytes, write verified blobs. Sets `ARCA_BUCKET`. */
  public grantScan(fn: lambda.Function): void {
    fn.addEnvironment(ENV.bucket, this.bucket.bucketName);
    this.grantObjects(fn, BUCKET_LAYOUT.stagingPrefix, ['s3:GetObject', 's3:DeleteObject']);
    // Abort: copies above 5 GiB go part by part (UploadPartCopy) and are aborted on failure.
    this.grantObjects(fn, BUCKET_LAYOUT.blobPrefix, [
      's3:GetObject',
      's3:PutObject',
      's3:AbortMultipartUpload',
    ]);
    this.grantList(fn);
    this.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
  }

  /**
   * What `gc` needs: delete the staged bytes (and abort the multipart uploads) of expired sessions,
   * delete unreferenced blobs. Nothing else: GC never reads, writes or lists objects — the index says
   * what exists, and each session records its multipart upload ids. Sets `ARCA_BUCKET`.
   */
  public grantCollect(fn: lambda.Function): void {
    fn.addEnvironment(ENV.bucket, this.bucket.bucketName);
    this.grantObjects(fn, BUCKET_LAYOUT.stagingPrefix, ['s3:DeleteObject', 's3:AbortMultipartUpload']);
    // A delete adds a delete marker (the bucket is versioned); the noncurrent-versions lifecycle rule
    // removes the bytes later, so no s3:DeleteObjectVersion.
    this.grantObjects(fn, BUCKET_LAYOUT.blobPrefix, ['s3:DeleteObject']);
  }

  private grantObjects(fn: lambda.Function, prefix: string, actions: string[]): void {
    const objects = this.bucket.arnForObjects(`${prefix}*`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [objects] }));
    acknowledgeResourceWildcards(
      fn,
      [objects],
      `Objects under ${prefix} of the blob bucket, with named actions only.`,
    );
  }

  /** Without ListBucket a HEAD of a missing key answers 403, not 404. Keys are digests: nothing secret. */
  private grantList(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
  }
}
