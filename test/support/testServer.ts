import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'vitest';
import { advisoriesFromEnv, scannersFromEnv } from '../../functions/adapters/scanEngines.ts';
import type { CoreConfig } from '../../functions/core/deps.ts';
import type { Clock } from '../../functions/ports.ts';
import { useMoto } from '../integration/moto.ts';
import { startAwsServer } from './awsServer.ts';
import { snapshot } from './client.ts';
import { startEmbeddedServer } from './embedded.ts';

export type BackendKind = 'embedded' | 'aws';

/**
 * Every backend the HTTP suites run against; `ARCA_TEST_BACKENDS=embedded` narrows a run (say, on a
 * machine without moto).
 */
export const BACKENDS: readonly BackendKind[] = (process.env.ARCA_TEST_BACKENDS ?? 'embedded,aws')
  .split(',')
  .map((k) => k.trim())
  .filter((k): k is BackendKind => k === 'embedded' || k === 'aws');

export interface TestServerOptions {
  readonly clock?: Clock;
  readonly config?: Partial<CoreConfig>;
  /** Files above this size are uploaded in parts (S3 takes parts of at least 5 MiB). */
  readonly multipartThreshold?: number;
  /** OIDC issuers the server trusts (say, a test issuer on 127.0.0.1); none by default. */
  readonly oidcIssuers?: readonly string[];
  /** Scan engine settings (`ARCA_CLAMD`, `ARCA_OSV_DB`), as the environment would give them. */
  readonly scanEnv?: Readonly<Record<string, string>>;
}

/** A local Arca server on a free port, over a fresh store of the given backend. */
export interface TestServer {
  readonly kind: BackendKind;
  readonly url: string;
  /**
   * Everything a request could change, once the queued scans have finished (so only the request
   * under test can make two snapshots differ): embedded, the SQLite rows and the files of the data
   * dir; AWS, every item of the table and every object (key, size) of the bucket.
   */
  snapshot(): Promise<unknown>;
  /** Resolves once every scan queued so far has finished. */
  whenIdle(): Promise<void>;
  /** Stops scanning for good: uploads committed from now on stay `pending`. */
  pauseScans(): Promise<void>;
  /** The sha256 of every blob in content-addressed storage, sorted, once queued scans have finished. */
  storedBlobs(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startTestServer(
  kind: BackendKind,
  options: TestServerOptions = {},
): Promise<TestServer> {
  if (kind === 'aws') {
    // Never let a test reach a real account: the AWS backend is only ever pointed at moto here.
    if (!process.env.AWS_ENDPOINT_URL)
      throw new Error("startTestServer('aws') needs moto: call it inside describeForEachBackend");
    return startAwsServer(options);
  }
  const { multipartThreshold, oidcIssuers, scanEnv, ...rest } = options;
  const advisories = scanEnv ? advisoriesFromEnv(scanEnv) : undefined;
  const s = await startEmbeddedServer(
    {
      ...rest,
      ...(multipartThreshold ? { multipartThreshold, partSize: multipartThreshold } : {}),
      ...(scanEnv ? { scanners: scannersFromEnv(scanEnv) } : {}),
      ...(advisories ? { advisories } : {}),
    },
    { oidcIssuers },
  );
  const blobRoot = join(s.dataDir, 'blobs/sha256');
  return {
    kind,
    url: s.url,
    snapshot: () => snapshot(s),
    whenIdle: () => s.backend.scanQueue.whenIdle(),
    pauseScans: () => s.backend.scanQueue.stop(),
    storedBlobs: async () => {
      await s.backend.scanQueue.whenIdle();
      const entries = await readdir(blobRoot, { recursive: true, withFileTypes: true }).catch(() => []);
      return entries
        .filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name))
        .map((e) => e.name)
        .sort();
    },
    close: () => s.close(),
  };
}

/**
 * One `describe` per backend, from the same test code: `body` gets the backend to start its servers
 * on. The AWS block starts one moto for the file; each server then gets its own bucket, table and queue.
 */
export function describeForEachBackend(
  title: string,
  body: (kind: BackendKind) => void,
  backends: readonly BackendKind[] = BACKENDS,
): void {
  describe.each(backends.map((kind) => [kind]))(`${title} (%s backend)`, (kind) => {
    if (kind === 'aws') useMoto();
    body(kind);
  });
}
