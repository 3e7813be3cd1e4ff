import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../functions/adapters/embedded/fsBlobStore.ts';
import { UrlSigner } from '../../functions/adapters/embedded/urlSigner.ts';
import { createStorageEndpoint } from '../../functions/local/storageEndpoint.ts';
import { type Clock, systemClock } from '../../functions/ports.ts';

/** An FsBlobStore alone behind its storage endpoint: no scan worker consumes what tests stage. */
export async function startBlobServer(
  clock: Clock = systemClock,
): Promise<{ store: FsBlobStore; close(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'arca-blobs-'));
  const signer = UrlSigner.fromDataDir(dataDir);
  let store: FsBlobStore | undefined;
  const server = createServer((req, res) => {
    void createStorageEndpoint(store!, signer, clock)(req, res, new URL(req.url!, 'http://x').pathname);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  store = new FsBlobStore({
    dataDir,
    signer,
    publicUrl: `http://127.0.0.1:${port}`,
    partSize: 5 * 1024 * 1024,
  });
  await store.init();
  return {
    store,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
