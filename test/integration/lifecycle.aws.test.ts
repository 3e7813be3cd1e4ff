import { GetObjectCommand } from '@aws-sdk/client-s3';
import { vi } from 'vitest';
import { blobKeyOf } from '../../functions/adapters/aws/s3BlobStore.ts';
import { CursorCodec } from '../../functions/core/cursor.ts';
import { DEFAULT_CORE_CONFIG } from '../../functions/core/deps.ts';
import { defaultScanners } from '../../functions/core/scanners.ts';
import { describeLifecycleProperties } from '../contract/lifecycleProperties.ts';
import { MemoryStoreKeys } from '../support/memoryStoreKeys.ts';
import { TestClock } from '../support/testClock.ts';
import { freshResources, indexOn, motoClients, storeOn } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();
// Ten random runs of up to 30 steps, each step several requests to moto: ~25 s on a quiet machine.
vi.setConfig({ testTimeout: 120_000 });

/**
 * The lifecycle invariants on the AWS adapters: S3BlobStore + DynamoDbIndex on moto, each run on a
 * bucket and table of its own. Fewer runs than the embedded backend: every step is HTTP to moto.
 */
describeLifecycleProperties(
  'DynamoDbIndex + S3BlobStore on moto',
  async () => {
    const clients = motoClients();
    const resources = await freshResources(clients);
    const clock = new TestClock();
    return {
      deps: {
        index: indexOn(clients, resources),
        // Presigned URLs last from the test clock's now to the session's expiry, as on a real host.
        blobs: storeOn(clients, resources, { now: () => clock.now() }),
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
        if (res.status !== 200) throw new Error(`PUT ${res.status}: ${await res.text()}`);
      },
      readBlob: async (sha) => {
        try {
          const res = await clients.s3.send(
            new GetObjectCommand({ Bucket: resources.bucket, Key: blobKeyOf(sha) }),
          );
          return Buffer.from(await res.Body!.transformToByteArray());
        } catch (error) {
          if (error instanceof Error && error.name === 'NoSuchKey') return null;
          throw error;
        }
      },
      close: async () => undefined,
    };
  },
  10,
);
