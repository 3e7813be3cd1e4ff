import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../config/env.ts';
import { serializeWrites } from './emulatorWrites.ts';

/** The SDK clients the AWS adapters share. Built once per process and injected, never per request. */
export interface AwsClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Built on first use: the CloudFront signing key (api) and the cursor key (api, gc). */
  readonly secretsManager: SecretsManagerClient;
  /** Built on first use: store signing keys (the scan function signs, the API lists public keys). */
  readonly kms: KMSClient;
  /** Built on first use: state-change events to the stack's bus (docs/events.md). */
  readonly eventBridge: EventBridgeClient;
}

/** Region and endpoint of every client: `AWS_REGION` (default us-east-1) and `AWS_ENDPOINT_URL`. */
export function clientConfig(env: NodeJS.ProcessEnv = process.env): { region: string; endpoint?: string } {
  const endpoint = env[ENV.awsEndpointUrl] || undefined;
  return { region: env[ENV.awsRegion] || 'us-east-1', ...(endpoint ? { endpoint } : {}) };
}

/**
 * Builds the clients from the environment: `AWS_REGION` (default us-east-1) and, for an emulator,
 * `AWS_ENDPOINT_URL`. Credentials come from the SDK's default chain. On an emulator, DynamoDB writes
 * from this process go out one at a time (see `serializeWrites`).
 */
export function createAwsClients(env: NodeJS.ProcessEnv = process.env): AwsClients {
  const common = clientConfig(env);
  const { endpoint } = common;
  const dynamodb = new DynamoDBClient(common);
  let secretsManager: SecretsManagerClient | undefined;
  let kms: KMSClient | undefined;
  let eventBridge: EventBridgeClient | undefined;
  if (endpoint) serializeWrites(dynamodb);
  return {
    s3: new S3Client({
      ...common,
      // Emulators answer on one host: bucket-in-hostname addressing would not resolve there.
      forcePathStyle: endpoint !== undefined,
      // Checksums only where S3 requires them: presigned URLs must carry exactly the headers we list
      // (no SDK-added CRC32 the client cannot send), and streamed reads are verified by our own sha256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    dynamodb,
    sqs: new SQSClient(common),
    get secretsManager() {
      secretsManager ??= new SecretsManagerClient(common);
      return secretsManager;
    },
    get eventBridge() {
      eventBridge ??= new EventBridgeClient(common);
      return eventBridge;
    },
    get kms() {
      kms ??= new KMSClient(common);
      return kms;
    },
  };
}

let shared: AwsClients | undefined;

/** The process-wide clients (Lambda cold start, local server): built on first use from `process.env`. */
export function awsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}
