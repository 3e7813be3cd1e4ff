import { Annotations, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { publicKeySha256 } from '../../functions/adapters/aws/cloudFrontUrls.ts';
import { ENV } from '../../functions/config/env.ts';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import { CdnKeyPair } from './cdnKeyPair.ts';
import type { BlobStorage } from './storage.ts';

/** Environment variables `api` reads to sign CloudFront URLs (adapters/aws/cloudFrontUrls.ts). */
export const CDN_ENV = {
  domain: ENV.cdnDomain,
  keyPairId: ENV.cdnKeyPairId,
  privateKeySecretArn: ENV.cdnPrivateKeySecretArn,
  publicKeySha256: ENV.cdnPublicKeySha256,
} as const;

export interface BlobCdnProps {
  readonly storage: BlobStorage;
  /**
   * The public half (PEM) of an RSA key pair you made yourself; put the private half in
   * `privateKeySecret` after deploy.
   * @default - a pair generated inside AWS at deploy time (`CdnKeyPair`)
   */
  readonly publicKeyPem?: string;
  /**
   * Generation of the generated key pair; +1 rotates it (ignored with `publicKeyPem`).
   * @default 1
   */
  readonly keyGeneration?: number;
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
  /** Edge locations served from. @default cloudfront.PriceClass.PRICE_CLASS_100 */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * Custom domain names (CNAMEs) of the distribution; needs `certificate`.
   * @default - the *.cloudfront.net domain only
   */
  readonly domainNames?: readonly string[];
  /** ACM certificate (us-east-1) covering `domainNames`. @default - none */
  readonly certificate?: acm.ICertificate;
  /** Secret and generated key's removal policy. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
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
  /** The key pair generated inside AWS, unless a `publicKeyPem` was given. */
  public readonly keyPair?: CdnKeyPair;
  /** Hex sha256 of the trusted public key's SPKI DER; `api` refuses a private key that differs. */
  public readonly publicKeySha256: string;

  constructor(scope: Construct, id: string, props: BlobCdnProps) {
    super(scope, id);
    const bucket = props.storage.bucket;
    if ((props.domainNames?.length ?? 0) > 0 !== (props.certificate !== undefined))
      throw new Error('a CloudFront custom domain needs both domainNames and certificate');
    let encodedKey: string;
    if (props.publicKeyPem !== undefined) {
      encodedKey = props.publicKeyPem;
      this.publicKeySha256 = publicKeySha256(props.publicKeyPem);
      this.privateKeySecret = props.privateKeySecret ?? this.createSecret(props.removalPolicy);
    } else {
      if (props.privateKeySecret !== undefined)
        throw new Error('privateKeySecret goes with publicKeyPem; without it the key pair is generated');
      this.keyPair = new CdnKeyPair(this, 'KeyPair', {
        generation: props.keyGeneration,
        removalPolicy: props.removalPolicy,
      });
      encodedKey = this.keyPair.publicKeyPem;
      this.publicKeySha256 = this.keyPair.publicKeySha256;
      this.privateKeySecret = this.keyPair.secret;
    }
    // CloudFront cannot change a public key's bytes in place: each generation is a new resource.
    const generation = this.keyPair?.generation ?? 1;
    this.publicKey = new cloudfront.PublicKey(
      this,
      generation === 1 ? 'SigningPublicKey' : `SigningPublicKey${generation}`,
      { encodedKey, comment: `Arca download URL signing, generation ${generation}` },
    );
    this.keyGroup = new cloudfront.KeyGroup(this, 'SigningKeyGroup', { items: [this.publicKey] });

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
      ...(props.certificate
        ? {
            domainNames: [...(props.domainNames ?? [])],
            certificate: props.certificate,
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
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
    if (!props.certificate)
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate cannot pin TLS 1.2; attach a custom domain to raise it.',
      });
  }

  /**
   * Lets `fn` sign download URLs: reads the private key (at run time, by ARN), knows the domain, the
   * key id and the public key's fingerprint.
   */
  public grantSign(fn: lambda.Function): void {
    fn.addEnvironment(CDN_ENV.domain, this.distribution.distributionDomainName);
    fn.addEnvironment(CDN_ENV.keyPairId, this.publicKey.publicKeyId);
    fn.addEnvironment(CDN_ENV.privateKeySecretArn, this.privateKeySecret.secretArn);
    fn.addEnvironment(CDN_ENV.publicKeySha256, this.publicKeySha256);
    this.privateKeySecret.grantRead(fn);
  }

  private createSecret(removalPolicy?: RemovalPolicy): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'SigningPrivateKey', {
      description: 'Arca: PEM private key matching the CloudFront signing public key',
      removalPolicy: removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A CloudFront key pair rotates by adding a new public key to the key group, not by a rotation Lambda.',
    });
    return secret;
  }

  /** OAC reads `blobs/` of the primary bucket only, and only for this distribution. */
  private allowDistribution(bucket: s3.IBucket, storage: BlobStorage): void {
    const principal = new iam.ServicePrincipal('cloudfront.amazonaws.com');
    const added = bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [principal],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${BUCKET_LAYOUT.blobPrefix}*`)],
        conditions: { StringEquals: { 'AWS:SourceArn': this.distribution.distributionArn } },
      }),
    );
    if (!added.statementAdded)
      Annotations.of(this).addWarningV2(
        'arca:cdn-bucket-policy',
        "The blob bucket was brought, not created: add the statement letting this distribution's OAC s3:GetObject blobs/sha256/* to its policy (docs/deploy.md), or CloudFront answers 403 and downloads fall back to nothing.",
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
