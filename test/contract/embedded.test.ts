import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import { SqliteIndex } from '../../functions/adapters/embedded/sqliteIndex.ts';
import { startBlobServer } from '../support/blobServer.ts';
import { describeBlobStoreContract } from './blobStoreContract.ts';
import { describeCatalogIndexContract } from './catalogIndexContract.ts';
import { describeIndexContract } from './indexContract.ts';
import { describeLifecycleIndexContract } from './lifecycleIndexContract.ts';

const sqliteIndex = async () => {
  const db = openDatabase(':memory:');
  return {
    index: new SqliteIndex(db),
    close: async () => {
      db.close();
    },
  };
};

describeIndexContract('SqliteIndex', sqliteIndex);

describeBlobStoreContract('FsBlobStore', startBlobServer);

describeLifecycleIndexContract('SqliteIndex', sqliteIndex);

describeCatalogIndexContract('SqliteIndex', sqliteIndex);
