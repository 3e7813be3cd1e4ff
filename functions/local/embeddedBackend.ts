import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStoreKeys } from '../adapters/embedded/fileStoreKeys.ts';
import { FsBlobStore } from '../adapters/embedded/fsBlobStore.ts';
import { ScanQueue } from '../adapters/embedded/scanQueue.ts';
import { openDatabase } from '../adapters/embedded/sqliteDatabase.ts';
import { SqliteEventOutbox } from '../adapters/embedded/sqliteEvents.ts';
import { SqliteIndex } from '../adapters/embedded/sqliteIndex.ts';
import { sqliteStoreStats } from '../adapters/embedded/sqliteStats.ts';
import { loadOrCreateKey, UrlSigner } from '../adapters/embedded/urlSigner.ts';
import { PrometheusMetrics } from '../adapters/prometheus/prometheusMetrics.ts';
import { advisoriesFromEnv, scannersFromEnv, withAdvisories } from '../adapters/scanEngines.ts';
import { CursorCodec } from '../core/cursor.ts';
import { type CoreConfig, type CoreDeps, DEFAULT_CORE_CONFIG } from '../core/deps.ts';
import { relayAuditedChanges } from '../core/eventRelay.ts';
import { recoverGarbageCollection } from '../core/gc.ts';
import { ensureProvenance, parseProvenanceTaskKey, provenanceTaskKey } from '../core/provenance.ts';
import { scanStagedObject } from '../core/scan.ts';
import type { Scanner } from '../core/scanners.ts';
import type { AdvisorySource } from '../core/vulns/osv.ts';
import { type Clock, systemClock } from '../ports.ts';
import type { HostedBackend } from './server.ts';
import { createStorageEndpoint, STORAGE_PREFIX, type StorageFaults } from './storageEndpoint.ts';
import { type DispatcherOptions, WebhookDispatcher } from './webhookDispatcher.ts';

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly publicUrl: string;
  readonly clock?: Clock;
  readonly config?: Partial<CoreConfig>;
  readonly multipartThreshold?: number;
  readonly partSize?: number;
  readonly onScanError?: (stagingKey: string, error: unknown) => void;
  /** The scan engines; default: those the environment configures (adapters/scanEngines.ts). */
  readonly scanners?: readonly Scanner[];
  /** The advisory database; default: the one ARCA_OSV_DB names, if any. */
  readonly advisories?: AdvisorySource;
  /** Test-only: make the storage endpoint fail chosen requests. */
  readonly faults?: StorageFaults;
  /** How webhook deliveries are retried (tests shorten the backoff). */
  readonly webhooks?: DispatcherOptions;
}

export interface EmbeddedBackend extends HostedBackend {
  readonly deps: CoreDeps;
  readonly store: FsBlobStore;
  readonly signer: UrlSigner;
  readonly scanQueue: ScanQueue;
  /** The event outbox (and the namespaces' webhooks) in the index's SQLite file. */
  readonly outbox: SqliteEventOutbox;
  /** Re-queues scans a previous process left unfinished; returns how many. */
  recover(): Promise<number>;
  close(): Promise<void>;
}

/** Wires the embedded backend: filesystem blobs, SQLite index, in-process scan queue. */
export async function createEmbeddedBackend(options: EmbeddedOptions): Promise<EmbeddedBackend> {
  const clock = options.clock ?? systemClock;
  const db = openDatabase(join(options.dataDir, 'index.sqlite'));
  const signer = UrlSigner.fromDataDir(options.dataDir);
  let queue: ScanQueue | undefined;
  const store = new FsBlobStore({
    dataDir: options.dataDir,
    signer,
    publicUrl: options.publicUrl,
    multipartThreshold: options.multipartThreshold,
    partSize: options.partSize,
    onStaged: (key) => queue?.enqueue(key),
  });
  await store.init();
  const metrics = new PrometheusMetrics(sqliteStoreStats(db));
  const outbox = new SqliteEventOutbox(db, metrics);
  const deps: CoreDeps = {
    index: new SqliteIndex(db),
    blobs: store,
    clock,
    cursors: new CursorCodec(loadOrCreateKey(options.dataDir, 'cursor.key')),
    scanners: options.scanners ?? scannersFromEnv(),
    ...withAdvisories(options.advisories ?? advisoriesFromEnv()),
    config: { ...DEFAULT_CORE_CONFIG, ...options.config },
    keys: FileStoreKeys.open(options.dataDir, clock.now()),
    // Signing goes through the scan queue as on AWS: durable, retried, and off the commit's path.
    provenanceQueue: { request: async (ref) => queue?.enqueue(provenanceTaskKey(ref)) },
    metrics,
    events: outbox,
    webhooks: outbox,
  };
  const dispatcher = new WebhookDispatcher(outbox, { metrics, ...options.webhooks });
  dispatcher.start();
  // A pack's files are recorded in rows of their own: scanning several at once overlaps their fsyncs
  // (1,000 files of 1 KiB: ~7 s one at a time, ~5.4 s eight at a time, on this project's test disk).
  const scanDeps = { ...deps, packScanConcurrency: 8 };
  const work = (key: string) => {
    const ref = parseProvenanceTaskKey(key);
    return ref ? ensureProvenance(deps, ref) : scanStagedObject(scanDeps, key);
  };
  queue = new ScanQueue(db, work, { onError: options.onScanError });
  const scanQueue = queue;
  return {
    deps,
    storage: createStorageEndpoint(store, signer, clock, options.faults),
    storagePrefix: STORAGE_PREFIX,
    metrics,
    outbox,
    store,
    signer,
    scanQueue,
    recover: async () => {
      // This process is the store's only GC runner: a run the last one was killed in is over.
      await recoverGarbageCollection(deps);
      // Events of changes a killed process stored but never emitted (the outbox drops the rest).
      await relayAuditedChanges({ ...deps, events: outbox }, outbox.relayMark());
      return scanQueue.recover(await listStagedKeys(options.dataDir));
    },
    close: async () => {
      await scanQueue.stop();
      await dispatcher.stop();
      db.close();
    },
  };
}

/**
 * Complete staged objects on disk (`staging/<uploadId>/<n>` and `…/pack`), skipping in-progress
 * multipart dirs.
 */
async function listStagedKeys(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'staging');
  const keys: string[] = [];
  for (const uploadId of await readdir(root).catch(() => [] as string[])) {
    for (const entry of await readdir(join(root, uploadId)).catch(() => [] as string[])) {
      if (/^(?:\d+|pack)$/.test(entry)) keys.push(`staging/${uploadId}/${entry}`);
    }
  }
  return keys;
}
