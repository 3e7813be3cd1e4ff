import { readFile } from 'node:fs/promises';
import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import { SqliteIndex } from '../../functions/adapters/embedded/sqliteIndex.ts';
import { CursorCodec } from '../../functions/core/cursor.ts';
import { DEFAULT_CORE_CONFIG } from '../../functions/core/deps.ts';
import { defaultScanners } from '../../functions/core/scanners.ts';
import { startBlobServer } from '../support/blobServer.ts';
import { MemoryStoreKeys } from '../support/memoryStoreKeys.ts';
import { TestClock } from '../support/testClock.ts';
import { describeLifecycleProperties } from './lifecycleProperties.ts';

describeLifecycleProperties(
  'SqliteIndex + FsBlobStore',
  async () => {
    const db = openDatabase(':memory:');
    const clock = new TestClock();
    const blobs = await startBlobServer(clock);
    return {
      deps: {
        index: new SqliteIndex(db),
        blobs: blobs.store,
        clock,
        cursors: new CursorCodec(Buffer.alloc(32, 1)),
        scanners: defaultScanners,
        config: DEFAULT_CORE_CONFIG,
        keys: new MemoryStoreKeys(),
        provenanceQueue: { request: async () => {} },
      },
      clock,
      upload: async (ins, data) => {
        const res = await fetch(ins.upload!.url, { method: 'PUT', headers: ins.upload!.headers, body: data });
        if (res.status !== 200) throw new Error(`PUT ${res.status}`);
      },
      readBlob: (sha) => readFile(blobs.store.blobPath(sha)).catch(() => null),
      close: async () => {
        db.close();
        await blobs.close();
      },
    };
  },
  100,
);
