import { type AwsClients, createAwsClients } from '../../functions/adapters/aws/clients.ts';
import { awsDeps } from '../../functions/adapters/aws/deps.ts';
import { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { type ProvisionedResources, provision } from '../../functions/adapters/aws/provision.ts';
import { S3BlobStore, type S3BlobStoreOptions } from '../../functions/adapters/aws/s3BlobStore.ts';
import type { CoreDeps } from '../../functions/core/deps.ts';
import type { Clock } from '../../functions/ports.ts';

let counter = 0;

// Powertools Metrics would print an EMF document per invocation into the test output.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

/**
 * Fresh clients, built after useMoto() pointed the environment at the emulator. Their DynamoDB
 * writes queue behind every other moto write from this process (`serializeWrites`), as the local
 * server's do.
 */
export function motoClients(): AwsClients {
  return createAwsClients(process.env);
}

/**
 * A bucket, table and queue of their own for one test, provisioned exactly as the local server
 * would: unique names keep tests apart without resetting the emulator between them.
 */
export async function freshResources(clients: AwsClients = motoClients()): Promise<ProvisionedResources> {
  counter++;
  const suffix = `${process.pid}-${counter}`;
  return provision(clients, {
    bucket: `arca-test-${suffix}`,
    table: `arca-test-${suffix}`,
    scanQueue: `arca-test-${suffix}`,
  });
}

/** Retry waits of zero: throttling tests must not sleep. */
export const noWait = { sleep: async () => undefined };

export function indexOn(clients: AwsClients, resources: ProvisionedResources): DynamoDbIndex {
  return new DynamoDbIndex({ dynamodb: clients.dynamodb, table: resources.table, retry: noWait });
}

export function storeOn(
  clients: AwsClients,
  resources: ProvisionedResources,
  options: Partial<S3BlobStoreOptions> = {},
): S3BlobStore {
  return new S3BlobStore({
    s3: clients.s3,
    bucket: resources.bucket,
    minPartSize: 5 * 1024 * 1024,
    ...options,
  });
}

/** The whole AWS backend as the Lambda handlers wire it, on this test's own resources (and clock). */
export function coreOn(clients: AwsClients, resources: ProvisionedResources, clock?: Clock): CoreDeps {
  return awsDeps(
    {
      ...process.env,
      ARCA_BUCKET: resources.bucket,
      ARCA_TABLE: resources.table,
      ARCA_SCAN_QUEUE: resources.scanQueue,
      ARCA_CURSOR_SECRET: 'integration-test-cursor-secret',
    },
    clock ? { clients, clock } : { clients },
  );
}

type Send = (args: { input: object }) => Promise<{ output: unknown }>;
/** The part of an SDK client's middleware stack fault injection uses, in terms these tests need. */
interface Stack {
  add(
    middleware: (next: Send, context: { commandName?: string }) => Send,
    options: { step: 'initialize' | 'build'; name: string },
  ): void;
}
const stackOf = (client: AwsClients[keyof AwsClients]) => client.middlewareStack as unknown as Stack;

/**
 * Fault injection with SDK middleware: `hook` runs around each `commandName` request the client
 * sends, before the SDK's own retries (initialize step), and decides what happens to it.
 */
export function intercept(
  client: AwsClients[keyof AwsClients],
  commandName: string,
  hook: (
    send: () => Promise<{ output: unknown }>,
    call: number,
    input: object,
  ) => Promise<{ output: unknown }>,
): void {
  let calls = 0;
  stackOf(client).add(
    (next, context) => async (args) => {
      if (context.commandName !== commandName) return next(args);
      calls++;
      return hook(() => next(args), calls, args.input);
    },
    { step: 'initialize', name: `intercept-${commandName}-${Math.random()}` },
  );
}

/** An error shaped like the SDK's for a service exception called `name`. */
export function awsError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`injected ${name}`), { name, $metadata: {}, ...extra });
}
