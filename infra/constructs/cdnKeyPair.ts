import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ArcaFunction, handlerEntry } from './functions.ts';
import { acknowledgeResourceWildcards, LAMBDA_BASIC_EXECUTION_FINDING } from './nag.ts';

export interface CdnKeyPairProps {
  /**
   * Key generation: raising it by one (context `cdnKeyGeneration`) makes a new pair on the next
   * deploy. Downloads fall back to S3 presigned URLs for the minutes CloudFront takes to trust it.
   * @default 1
   */
  readonly generation?: number;
  /** The secret's removal policy. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The CloudFront signing key pair, made inside AWS at deploy time: a custom resource
 * (functions/handlers/cdnKeyPair.ts, node:crypto) writes the RSA private key to `secret` and returns
 * the public key for the key group. No PEM is ever handled by the operator or seen by CloudFormation.
 */
export class CdnKeyPair extends Construct {
  /** Holds the private key PEM; only the functions granted `grantRead` may read it. */
  public readonly secret: secretsmanager.Secret;
  /** The public key (SPKI PEM), a deploy-time attribute. */
  public readonly publicKeyPem: string;
  /** Hex sha256 of the public key's SPKI DER (`ARCA_CDN_PUBLIC_KEY_SHA256`). */
  public readonly publicKeySha256: string;
  public readonly generation: number;

  constructor(scope: Construct, id: string, props: CdnKeyPairProps = {}) {
    super(scope, id);
    this.generation = props.generation ?? 1;
    if (!Number.isInteger(this.generation) || this.generation < 1)
      throw new Error(`cdnKeyGeneration must be a positive integer, got ${this.generation}`);
    this.secret = new secretsmanager.Secret(this, 'PrivateKey', {
      description: `Arca: CloudFront URL signing private key (PEM), made by the key-pair custom resource (${Stack.of(this).stackName})`,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The key pair rotates by raising cdnKeyGeneration (a new pair and a new public key in the key group), not by a rotation Lambda.',
    });

    const onEvent = new ArcaFunction(this, 'Handler', {
      entry: handlerEntry('cdnKeyPair'),
      description: 'Arca deploy: generates the CloudFront signing key pair into Secrets Manager',
      timeout: Duration.minutes(1),
      memorySize: 256,
    });
    this.secret.grantWrite(onEvent);
    this.secret.grantRead(onEvent);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    acknowledgeProvider(provider);
    acknowledgeResourceWildcards(
      provider,
      [`${onEvent.functionArn}:*`],
      'The provider framework invokes any version of the one key-pair handler function.',
    );
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ArcaCdnKeyPair',
      properties: { SecretArn: this.secret.secretArn, Generation: String(this.generation) },
    });
    this.publicKeyPem = resource.getAttString('PublicKeyPem');
    this.publicKeySha256 = resource.getAttString('PublicKeySha256');
  }
}

/** CDK's provider framework: its own small function, which only invokes ours and writes its logs. */
function acknowledgeProvider(provider: cr.Provider): void {
  Validations.of(provider).acknowledge({
    id: LAMBDA_BASIC_EXECUTION_FINDING,
    reason: "CDK's custom-resource provider function only writes its own logs with this managed policy.",
  });
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-L1',
    reason: "The provider framework's runtime is chosen and updated by aws-cdk-lib.",
  });
}
