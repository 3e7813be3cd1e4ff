import { describeBlobStoreContract } from '../contract/blobStoreContract.ts';
import { describeCatalogIndexContract } from '../contract/catalogIndexContract.ts';
import { describeIndexContract } from '../contract/indexContract.ts';
import { describeLifecycleIndexContract } from '../contract/lifecycleIndexContract.ts';
import { freshResources, indexOn, motoClients, storeOn } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const dynamoDbIndex = async () => {
  const clients = motoClients();
  const index = indexOn(clients, await freshResources(clients));
  return { index, close: async () => undefined };
};

describeIndexContract('DynamoDbIndex on moto', dynamoDbIndex);

describeLifecycleIndexContract('DynamoDbIndex on moto', dynamoDbIndex);

describeBlobStoreContract('S3BlobStore on moto', async () => {
  const clients = motoClients();
  const store = storeOn(clients, await freshResources(clients));
  return { store, close: async () => undefined };
});

describeCatalogIndexContract('DynamoDbIndex on moto', dynamoDbIndex);
