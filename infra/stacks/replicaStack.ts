import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { BlobReplica, type BlobReplicaProps } from '../constructs/replication.ts';

export interface ArcaReplicaStackProps extends StackProps {
  /** How the replica is configured; match the primary's encryption and lifecycle. @default - defaults */
  readonly replica?: BlobReplicaProps;
}

/** The second region: the replica bucket the primary replicates `blobs/` to. Deploy it first. */
export class ArcaReplicaStack extends Stack {
  public readonly replica: BlobReplica;

  constructor(scope: Construct, id: string, props: ArcaReplicaStackProps = {}) {
    super(scope, id, props);
    this.replica = new BlobReplica(this, 'Replica', props.replica);
    new CfnOutput(this, 'ReplicaBucketName', {
      value: this.replica.bucket.bucketName,
      description: 'Replica of blobs/ (CloudFront failover origin)',
    });
  }
}
