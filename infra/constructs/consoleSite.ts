import { fileURLToPath } from 'node:url';
import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_HEADERS } from '../../functions/local/consoleAssets.ts';
import { acknowledgeResourceWildcards, LAMBDA_BASIC_EXECUTION_FINDING } from './nag.ts';

/** The console's static files (`console/` at the repository root). */
export const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

export interface ConsoleSiteProps {
  /** The bearer API the console calls: served by the same distribution under `/v1/*`. */
  readonly api: apigw.HttpApi;
  /** Where CloudFront writes its access logs. */
  readonly logBucket: s3.IBucket;
  /** @default RemovalPolicy.RETAIN, as the store's other buckets; DESTROY also empties it on delete. */
  readonly removalPolicy?: RemovalPolicy;
  /** @default PRICE_CLASS_100 */
  readonly priceClass?: cloudfront.PriceClass;
}

/**
 * The web console on AWS: its files in a private bucket read through OAC, and the bearer API under
 * `/v1/*` of the same distribution, so the console calls its own origin (CSP `default-src 'self'`).
 * The API is never cached and gets every header and query string but `Host`.
 */
export class ConsoleSite extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new s3.Bucket(this, 'Files', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 'console-bucket/',
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Arca console: strict CSP, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: CONSOLE_HEADERS['content-security-policy'],
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });
    // `https://abc.execute-api.region.amazonaws.com` → its host.
    const apiDomain = Fn.select(2, Fn.split('/', props.api.apiEndpoint));
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Arca console and bearer API',
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      defaultRootObject: 'index.html',
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'console/',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      },
      additionalBehaviors: {
        '/v1/*': {
          origin: new origins.HttpOrigin(apiDomain, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
    });
    // index.html at the root (the distribution's default object), the modules under /console/. Nothing
    // is cached at the edge (CachingDisabled), so a deploy needs no invalidation.
    new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [s3deploy.Source.asset(CONSOLE_DIR, { exclude: ['index.html'] })],
      destinationBucket: this.bucket,
      destinationKeyPrefix: 'console/',
      prune: true,
    });
    new s3deploy.BucketDeployment(this, 'DeployIndex', {
      sources: [s3deploy.Source.asset(CONSOLE_DIR, { exclude: ['*', '!index.html'] })],
      destinationBucket: this.bucket,
      prune: false,
    });
    this.acknowledgeFindings();
  }

  /** `https://<distribution>/`: where people open the console. */
  public get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }

  private acknowledgeFindings(): void {
    // The BucketDeployment function is a singleton of the stack, built by aws-cdk-lib: its role and
    // runtime are the library's.
    for (const child of Stack.of(this).node.children) {
      if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      const deployer = Validations.of(child);
      deployer.acknowledge({
        id: LAMBDA_BASIC_EXECUTION_FINDING,
        reason: "aws-cdk-lib's BucketDeployment function logs with the basic execution role.",
      });
      const { account, region } = Stack.of(this);
      for (const grant of [
        'Action::s3:GetBucket*',
        'Action::s3:GetObject*',
        'Action::s3:List*',
        'Action::s3:Abort*',
        'Action::s3:DeleteObject*',
        `Resource::arn:aws:s3:::cdk-hnb659fds-assets-${account}-${region}/*`,
      ])
        deployer.acknowledge({
          id: `AwsSolutions-IAM5[${grant}]`,
          reason:
            "aws-cdk-lib's BucketDeployment grants: it reads the console's asset and writes the console bucket.",
        });
      acknowledgeResourceWildcards(
        child,
        [this.bucket.arnForObjects('*')],
        'BucketDeployment replaces every file of the console bucket on deploy.',
      );
      deployer.acknowledge({
        id: 'AwsSolutions-L1',
        reason: "aws-cdk-lib pins the BucketDeployment function's runtime.",
      });
    }
    const on = Validations.of(this.distribution);
    on.acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'Access is by Arca token on every API call; geography is not an access criterion.',
    });
    on.acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'The API behind /v1/* authenticates every call; WAF would add a fixed monthly cost to an idle store.',
    });
    on.acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The default *.cloudfront.net certificate cannot pin TLS 1.2; attach a custom domain to raise it.',
    });
  }
}
