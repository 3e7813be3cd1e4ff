import { randomBytes } from 'node:crypto';
import { coreConfigFromEnv } from '../../config/coreConfig.ts';
import { ENV, intEnv, requireEnv } from '../../config/env.ts';
import { INDEX_NAMES, indexLayout } from '../../config/resources.ts';
import { CursorCodec } from '../../core/cursor.ts';
import type { CoreDeps } from '../../core/deps.ts';
import type { AdvisorySource } from '../../core/vulns/osv.ts';
import { type Clock, systemClock } from '../../ports.ts';
import { advisoriesFromEnv, scannersFromEnv, withAdvisories } from '../scanEngines.ts';
import { cdnFromEnv, reportCdnKeyUnavailable } from './cdnSigningKey.ts';
import { type AwsClients, awsClients, createAwsClients } from './clients.ts';
import { DynamoDbIndex } from './dynamoDbIndex.ts';
import { EventBridgeEvents } from './eventBridgeEvents.ts';
import { emulatorSigningKeys, KmsStoreKeys } from './kmsStoreKeys.ts';
import { resourceNames } from './provision.ts';
import { S3BlobStore } from './s3BlobStore.ts';
import { parseS3Location, S3OsvDatabase } from './s3OsvDatabase.ts';
import { SqsProvenanceQueue } from './sqsProvenanceQueue.ts';

export interface AwsDepsOptions {
  /** Defaults to the process-wide clients when `env` is `process.env`, else clients built from `env`. */
  readonly clients?: AwsClients;
  readonly clock?: Clock;
  /** Where operational warnings go (a CloudFront key that cannot be used); default stderr. */
  readonly warn?: (message: string) => void;
  /** Where the `CdnKeyUnavailable` metric line goes (default stdout, as CloudWatch EMF). */
  readonly metricLine?: (line: string) => void;
}

/**
 * Wires the AWS backend into the domain's dependencies: S3 for bytes, DynamoDB for the index, names
 * and limits from the environment (the CDK stack sets the same variables, see config/env.ts).
 */
export function awsDeps(env: NodeJS.ProcessEnv = process.env, options: AwsDepsOptions = {}): CoreDeps {
  const clients = options.clients ?? (env === process.env ? awsClients() : createAwsClients(env));
  const names = resourceNames(env);
  const warn = options.warn ?? ((message) => console.warn(JSON.stringify({ level: 'WARN', message })));
  const cdn = cdnFromEnv(
    env,
    () => clients.secretsManager,
    (reason) => {
      warn(reason);
      reportCdnKeyUnavailable(options.metricLine);
    },
  );
  return {
    index: new DynamoDbIndex({
      dynamodb: clients.dynamodb,
      table: names.table,
      indexes: INDEX_NAMES[indexLayout(env[ENV.indexLayout])],
    }),
    blobs: new S3BlobStore({
      s3: clients.s3,
      bucket: names.bucket,
      ...(env[ENV.multipartThreshold] ? { multipartThreshold: intEnv(ENV.multipartThreshold, 0, env) } : {}),
      ...(cdn ? { cdn } : {}),
    }),
    clock: options.clock ?? systemClock,
    cursors: new CursorCodec(() => cursorKey(env)),
    scanners: scannersFromEnv(env),
    ...withAdvisories(awsAdvisories(env, clients)),
    config: coreConfigFromEnv(env),
    keys: new KmsStoreKeys({ kms: clients.kms, keyIds: () => signingKeyIds(env, clients) }),
    ...(env[ENV.eventBus] ? { events: eventBridgeEvents(env, clients, names.table) } : {}),
    provenanceQueue: new SqsProvenanceQueue({
      sqs: clients.sqs,
      queue: {
        ...{ name: names.scanQueue },
        ...(env[ENV.scanQueueUrl] ? { url: env[ENV.scanQueueUrl] } : {}),
      },
    }),
  };
}

/** ARCA_OSV_DB: `s3://bucket/key.zip` on AWS (the Lambda has no disk to keep it on), else a path. */
function awsAdvisories(env: NodeJS.ProcessEnv, clients: AwsClients): AdvisorySource | undefined {
  const location = env[ENV.osvDb]?.startsWith('s3://') ? parseS3Location(env[ENV.osvDb]!) : undefined;
  if (env[ENV.osvDb]?.startsWith('s3://') && !location) {
    throw new Error(`${ENV.osvDb} must be s3://bucket/key.zip or a path, not ${env[ENV.osvDb]}`);
  }
  return location ? new S3OsvDatabase(clients.s3, location) : advisoriesFromEnv(env);
}

/** Events to the stack's bus. */
function eventBridgeEvents(env: NodeJS.ProcessEnv, clients: AwsClients, table: string): EventBridgeEvents {
  return new EventBridgeEvents({
    eventBridge: clients.eventBridge,
    bus: env[ENV.eventBus]!,
    dynamodb: clients.dynamodb,
    table,
  });
}

/** The stack's signing keys (`ARCA_SIGNING_KEYS`); against an emulator, one made on first use. */
async function signingKeyIds(env: NodeJS.ProcessEnv, clients: AwsClients): Promise<readonly string[]> {
  const listed = (env[ENV.signingKeys] ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (listed.length > 0) return listed;
  if (env[ENV.awsEndpointUrl]) return emulatorSigningKeys(clients.kms);
  throw new Error(`missing required environment variable ${ENV.signingKeys}`);
}

/**
 * The cursor signing key, on first use. Every Lambda instance must share it, so on AWS it is required
 * (`loadRuntimeSecrets` reads it from Secrets Manager before the first request); against an emulator
 * a random per-process key is fine (cursors simply do not survive a restart).
 */
function cursorKey(env: NodeJS.ProcessEnv): Uint8Array {
  const secret = env[ENV.cursorSecret];
  if (secret)
    return /^(?:[0-9a-f]{2}){16,}$/i.test(secret) ? Buffer.from(secret, 'hex') : Buffer.from(secret);
  if (env[ENV.awsEndpointUrl]) return randomBytes(32);
  throw new Error(`missing required environment variable ${ENV.cursorSecret}`);
}

/**
 * The Lambdas' dependencies, built on first invocation (not at import, so a bundle loads without
 * its environment) from the variables the stack sets; fails fast naming a missing one.
 */
export function lazyAwsDeps(): () => CoreDeps {
  let deps: CoreDeps | undefined;
  return () => {
    if (!deps) {
      requireEnv(ENV.bucket);
      requireEnv(ENV.table);
      deps = awsDeps(process.env);
    }
    return deps;
  };
}
