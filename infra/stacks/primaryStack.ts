import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ArtifactStore, type ArtifactStoreProps } from '../constructs/artifactStore.ts';

export interface ArcaPrimaryStackProps extends StackProps {
  /**
   * How the store is configured, or a function of the stack building it (to import resources by ARN
   * into the stack). @default - defaults of `ArtifactStoreProps`
   */
  readonly store?: ArtifactStoreProps | ((scope: Construct) => ArtifactStoreProps);
}

/** The region users publish to and fetch from: the whole `ArtifactStore`, with its outputs. */
export class ArcaPrimaryStack extends Stack {
  public readonly store: ArtifactStore;

  constructor(scope: Construct, id: string, props: ArcaPrimaryStackProps = {}) {
    super(scope, id, props);
    const store = typeof props.store === 'function' ? props.store(this) : props.store;
    this.store = new ArtifactStore(this, 'Store', store);
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('ApiUrl', this.store.api.url, 'Base URL of the Arca API for SigV4 callers (ARCA_URL for the CLI)');
    output(
      'BearerApiUrl',
      this.store.api.bearerUrl,
      'Base URL of the Arca API for bearer tokens: Arca tokens, OIDC tokens (ARCA_URL with ARCA_TOKEN)',
    );
    output('BucketName', this.store.storage.bucket.bucketName, 'Blob bucket');
    output('TableName', this.store.index.table.tableName, 'Index table');
    output('ScanQueueUrl', this.store.scan.queue.queueUrl, 'Scan queue');
    output(
      'DashboardName',
      this.store.observability.dashboard.dashboardName,
      'CloudWatch dashboard of the SLIs',
    );
    output('ConsoleUrl', this.store.console.url, 'The web console (sign in with an Arca token)');
    output('EventBusName', this.store.events.bus.eventBusName, 'EventBridge bus of state-change events');
    if (this.store.cdn) {
      output(
        'CdnDomain',
        this.store.cdn.distribution.distributionDomainName,
        'CloudFront domain for downloads',
      );
      output('SigningKeyPairId', this.store.cdn.publicKey.publicKeyId, 'CloudFront public key id');
      output(
        'SigningPrivateKeySecretArn',
        this.store.cdn.privateKeySecret.secretArn,
        this.store.cdn.keyPair
          ? 'Holds the signing private key, generated at deploy'
          : 'Put the signing private key PEM here after the first deploy',
      );
    }
    output(
      'AlarmTopicArn',
      this.store.alarmTopic.topicArn,
      'SNS topic every alarm notifies: subscribe to it',
    );
    output('MaxFileSize', String(this.store.scan.maxFileSize), 'Largest file (bytes) the scan can finish');
    if (this.store.ciRole)
      output('CiRoleArn', this.store.ciRole.role.roleArn, 'Role GitHub Actions assumes through OIDC');
  }
}
