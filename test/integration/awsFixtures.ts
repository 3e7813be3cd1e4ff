import { type AwsClients, createAwsClients } from '../../functions/adapters/aws/clients.ts';
import { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { type ProvisionedResources, provision } from '../../functions/adapters/aws/provision.ts';
import { S3BlobStore, type S3BlobStoreOptions } from '../../functions/adapters/aws/s3BlobStore.ts';

let counter = 0;

/** Fresh clients, built after useMoto() pointed the environment at the emulator. */
export const motoClients = (): AwsClients => createAwsClients(process.env);

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
