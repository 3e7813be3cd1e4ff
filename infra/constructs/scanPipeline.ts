import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUCKET_LAYOUT, QUEUE_SETTINGS } from '../../functions/config/resources.ts';
import { ArcaFunction, handlerEntry } from './functions.ts';
import type { IndexTable } from './indexTable.ts';
import { LAMBDA_BASIC_EXECUTION_FINDING } from './nag.ts';
import { ArcaImageFunction } from './scanEngines.ts';
import { maxScannableFileSize } from './scanSizing.ts';
import type { BlobStorage } from './storage.ts';

export interface ScanPipelineProps {
  readonly storage: BlobStorage;
  readonly index: IndexTable;
  /**
   * Staged objects per invocation. They are scanned side by side and share the 15-minute timeout,
   * so the largest accepted file (`maxFileSize`) is divided by this (see scanSizing.ts).
   * @default 1
   */
  readonly batchSize?: number;
  /**
   * Most `scan` instances the queue trigger runs at once (SQS event source `maxConcurrency`, 2–1000),
   * so a burst of uploads cannot take the account's concurrency from the API. Unlike reserved
   * concurrency it sets nothing aside.
   * @default 100
   */
  readonly maxConcurrency?: number;
  /**
   * Concurrency reserved for `scan`.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /** 1,769 MB is one full vCPU (the hash and scanners are CPU-bound between S3 reads). @default 1769 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The scan function as a container image instead of the bundled handler (ClamAV: `ClamavEngine`).
   * @default - the bundled `scan` handler
   */
  readonly image?: lambda.DockerImageCode;
}

const BUCKET_NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** S3 ObjectCreated on `staging/` → SQS (DLQ after retries) → the `scan` function. */
export class ScanPipeline extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: lambda.Function;
  /**
   * The largest file (bytes) this pipeline can provably scan before its timeout: the API refuses
   * larger ones at upload creation (413 `TooLarge`), through `ARCA_MAX_FILE_SIZE`.
   */
  public readonly maxFileSize: number;

  constructor(scope: Construct, id: string, props: ScanPipelineProps) {
    super(scope, id);
    const timeout = Duration.seconds(QUEUE_SETTINGS.scanFunctionTimeoutSeconds);
    const batchSize = props.batchSize ?? 1;
    this.maxFileSize = maxScannableFileSize(timeout.toSeconds(), batchSize);
    const maxConcurrency = props.maxConcurrency ?? 100;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000)
      throw new Error(`scan maxConcurrency must be an integer from 2 to 1000, got ${maxConcurrency}`);
    const visibilityTimeout = Duration.seconds(QUEUE_SETTINGS.visibilityTimeoutSeconds);
    // AWS's rule for SQS-triggered functions: a message must stay hidden while retries of its batch run.
    if (visibilityTimeout.toSeconds() < 6 * timeout.toSeconds())
      throw new Error(
        `scan queue visibility timeout (${visibilityTimeout.toSeconds()} s) must be ≥ 6× the scan timeout (${timeout.toSeconds()} s)`,
      );
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(QUEUE_SETTINGS.dlqRetentionDays),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue; its depth is alarmed on.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout,
      // SSE-SQS: S3 notifications can publish to it with no key policy (the aws/sqs KMS key would refuse S3).
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount },
    });

    const settings = {
      description: 'Arca scan: hashes and scans staged uploads, promotes them to blobs/',
      timeout,
      memorySize: props.memorySize ?? 1769,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logRetention: props.logRetention,
    };
    this.function = props.image
      ? new ArcaImageFunction(this, 'Function', { code: props.image, ...settings })
      : new ArcaFunction(this, 'Function', { entry: handlerEntry('scan'), ...settings });
    props.storage.grantScan(this.function);
    props.index.grantIndexReadWrite(this.function);
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize,
        maxConcurrency,
        // One bad object must not send its whole batch back to the queue.
        reportBatchItemFailures: true,
      }),
    );
    props.storage.bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.SqsDestination(this.queue),
      {
        prefix: BUCKET_LAYOUT.stagingPrefix,
      },
    );
    // CDK's singleton that applies bucket notifications (a custom resource) lives at the stack root.
    const notifications = Stack.of(this).node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER_ID);
    if (notifications)
      Validations.of(notifications).acknowledge({
        id: LAMBDA_BASIC_EXECUTION_FINDING,
        reason:
          "CDK's bucket-notification custom resource only writes its own logs with this managed policy.",
      });
  }
}
