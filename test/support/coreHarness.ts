import { openDatabase } from '../../functions/adapters/embedded/sqliteDatabase.ts';
import { SqliteIndex } from '../../functions/adapters/embedded/sqliteIndex.ts';
import { CursorCodec } from '../../functions/core/cursor.ts';
import { type Caller, type CoreDeps, DEFAULT_CORE_CONFIG } from '../../functions/core/deps.ts';
import { defaultScanners } from '../../functions/core/scanners.ts';
import { MemoryBlobStore } from './memoryBlobStore.ts';
import { inlineProvenanceQueue, MemoryStoreKeys } from './memoryStoreKeys.ts';
import { TestClock } from './testClock.ts';

export interface CoreHarness {
  readonly deps: CoreDeps;
  readonly blobs: MemoryBlobStore;
  readonly clock: TestClock;
  close(): void;
}

/** Use cases over an in-memory blob store, an in-memory SQLite index and a movable clock. */
export function coreHarness(): CoreHarness {
  const db = openDatabase(':memory:');
  const blobs = new MemoryBlobStore();
  const clock = new TestClock();
  const deps: CoreDeps = {
    index: new SqliteIndex(db),
    blobs,
    clock,
    cursors: new CursorCodec(Buffer.alloc(32, 7)),
    scanners: defaultScanners,
    config: DEFAULT_CORE_CONFIG,
    keys: new MemoryStoreKeys(),
    provenanceQueue: inlineProvenanceQueue(() => deps),
  };
  return { deps, blobs, clock, close: () => db.close() };
}

export const admin: Caller = {
  principal: { id: 'admin', kind: 'admin', admin: true, roles: {} },
  requestId: 'req-test',
};
export const reader: Caller = {
  principal: { id: 'ci-reader', kind: 'token', admin: false, roles: { demo: ['read'] } },
  requestId: 'req-test',
};
