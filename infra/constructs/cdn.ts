import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import type { BlobStorage } from './storage.ts';

/** Environment variables `api` reads to sign CloudFront URLs (adapters/aws/cloudFrontUrls.ts). */
export const CDN_ENV = {
  domain: ENV.cdnDomain,
  keyPairId: ENV.cdnKeyPairId,
  privateKeySecretArn: ENV.cdnPrivateKeySecretArn,
} as const;

export interface BlobCdnProps {
  readonly storage: BlobStorage;
  /** The public half (PEM) of the RSA key pair URLs are signed with. */
  readonly publicKeyPem: string;
  /**
   * The replica bucket CloudFront fails over to when the primary region answers 5xx or not at all.
   * @default - no failover
   */
  readonly failoverBucket?: s3.IBucket;
  /**
   * Secret holding the private key PEM. Left empty when created here: put the key in after deploy.
   * @default - a new secret
   */
  readonly privateKeySecret?: secretsmanager.ISecret;
  /** @default cloudfront.PriceClass.PRICE_CLASS_100 */
  readonly priceClass?: cloudfront.PriceClass;
}

/**
 * CloudFront in front of `blobs/`: OAC (the bucket policy admits it to `blobs/` only), HTTPS only,
 * signed URLs from one key group, cached as immutable because keys are content addresses.
 */
export class BlobCdn extends Construct {
  public readonly distribution: cloudfront.Distribution;
  public readonly keyGroup: cloudfront.KeyGroup;
  public readonly publicKey: cloudfront.PublicKey;
  public readonly privateKeySecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: BlobCdnProps) {
    super(scope, id);
    const bucket = props.storage.bucket;
    this.publicKey = new cloudfront.PublicKey(this, 'SigningPublicKey', {
      encodedKey: props.publicKeyPem,
      comment: 'Arca download URL signing',
    });
    this.keyGroup = new cloudfront.KeyGroup(this, 'SigningKeyGroup', { items: [this.publicKey] });
    this.privateKeySecret = props.privateKeySecret ?? this.createSecret();

    const oac = new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
      description: 'Arca: CloudFront reads blobs/ with SigV4',
    });
    const originOf = (b: s3.IBucket): cloudfront.IOrigin =>
      origins.S3BucketOrigin.withBucketDefaults(b, { originAccessControlId: oac.originAccessControlId });
    const origin = props.failoverBucket
      ? new origins.OriginGroup({
          primaryOrigin: originOf(bucket),
          fallbackOrigin: originOf(props.failoverBucket),
          fallbackStatusCodes: [500, 502, 503, 504],
        })
      : originOf(bucket);

    const cachePolicy = new cloudfront.CachePolicy(this, 'ImmutableBlobs', {
      comment: 'Content-addressed blobs never change: cache for a year',
      defaultTtl: Duration.days(365),
      minTtl: Duration.days(365),
      maxTtl: Duration.days(365),
      // The download's file name and type ride on the URL; everything else (signature) is not a key.
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList(
        'response-content-disposition',
        'response-content-type',
      ),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Arca blobs',
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: props.storage.logBucket,
      logFilePrefix: 'cdn/',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy,
        trustedKeyGroups: [this.keyGroup],
        compress: false,
      },
    });
    this.allowDistribution(bucket, props.storage);
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'Every request needs a short-lived signed URL; geography is not an access criterion here.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'Signed URLs reject unsigned traffic at the edge; WAF would add a fixed monthly cost to an idle store.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The default *.cloudfront.net certificate cannot pin TLS 1.2; attach a custom domain to raise it.',
    });
  }

  /** Lets `fn` sign download URLs: reads the private key, knows the domain and key id. */
  public grantSign(fn: lambda.Function): void {
    fn.addEnvironment(CDN_ENV.domain, this.distribution.distributionDomainName);
    fn.addEnvironment(CDN_ENV.keyPairId, this.publicKey.publicKeyId);
    fn.addEnvironment(CDN_ENV.privateKeySecretArn, this.privateKeySecret.secretArn);
    this.privateKeySecret.grantRead(fn);
  }

  private createSecret(): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'SigningPrivateKey', {
      description: 'Arca: PEM private key matching the CloudFront signing public key',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A CloudFront key pair rotates by adding a new public key to the key group, not by a rotation Lambda.',
    });
    return secret;
  }

  /** OAC reads `blobs/` of the primary bucket only, and only for this distribution. */
  private allowDistribution(bucket: s3.Bucket, storage: BlobStorage): void {
    const principal = new iam.ServicePrincipal('cloudfront.amazonaws.com');
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [principal],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${BUCKET_LAYOUT.blobPrefix}*`)],
        conditions: { StringEquals: { 'AWS:SourceArn': this.distribution.distributionArn } },
      }),
    );
    // The key policy cannot name the distribution (key → distribution → bucket → key would be a cycle).
    const { partition, account } = Stack.of(this);
    storage.encryptionKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [principal],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'AWS:SourceArn': `arn:${partition}:cloudfront::${account}:distribution/*` },
        },
      }),
    );
  }
}
