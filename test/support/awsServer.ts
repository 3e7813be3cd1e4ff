import { Logger } from '@aws-lambda-powertools/logger';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type AwsBackend, createAwsBackend } from '../../functions/adapters/aws/awsBackend.ts';
import type { AwsClients } from '../../functions/adapters/aws/clients.ts';
import { ENV } from '../../functions/config/env.ts';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import type { CoreConfig } from '../../functions/core/deps.ts';
import { startLocalServer } from '../../functions/local/server.ts';
import { motoClients } from '../integration/awsFixtures.ts';
import { testAuthenticator } from './embedded.ts';
import type { TestServer, TestServerOptions } from './testServer.ts';

/** Gap between two receives of the scan queue while scans run: short, so `settled()` stays quick. */
const POLL_INTERVAL_MS = 25;
let servers = 0;

/** The variables `coreConfigFromEnv` reads, so a test's config reaches the AWS backend as on Lambda. */
const CONFIG_ENV: Record<keyof CoreConfig, string> = {
  maxFileSize: ENV.maxFileSize,
  packMaxFileSize: ENV.packMaxFileSize,
  sessionTtlSeconds: ENV.sessionTtlSeconds,
  downloadTtlSeconds: ENV.downloadTtlSeconds,
  blobGraceHours: ENV.blobGraceHours,
  maxPageBytes: ENV.maxPageBytes,
};

/**
 * The local server hosting the AWS backend on the moto that `useMoto()` started for this file, with a
 * bucket, table and queue of its own. The scan queue is drained by short receives chained one after
 * another (never a long poll), so `whenIdle()` can tell exactly when every queued scan has finished.
 */
export async function startAwsServer(options: TestServerOptions): Promise<TestServer> {
  const name = `arca-http-${process.pid}-${++servers}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [ENV.bucket]: name,
    [ENV.table]: name,
    [ENV.scanQueue]: name,
    [ENV.cursorSecret]: 'http-suite-cursor-secret',
  };
  for (const [key, value] of Object.entries(options.config ?? {}))
    env[CONFIG_ENV[key as keyof CoreConfig]] = String(value);
  if (options.multipartThreshold) env[ENV.multipartThreshold] = String(options.multipartThreshold);
  Object.assign(env, options.scanEnv ?? {});
  const clients = motoClients();
  let backend: AwsBackend | undefined;
  const server = await startLocalServer({
    port: 0,
    authenticate: testAuthenticator(options),
    log: (line) => {
      if (process.env.ARCA_TEST_SERVER_LOG) process.stderr.write(`${JSON.stringify(line)}\n`);
    },
    backend: async () => {
      backend = await createAwsBackend(env, {
        clients,
        logger: new Logger({ logLevel: process.env.ARCA_TEST_SERVER_LOG ? 'INFO' : 'SILENT' }),
        startPoller: false,
        ...(options.clock ? { clock: options.clock } : {}),
      });
      return backend;
    },
  });
  const scans = new ScanDriver(backend!);
  // Scans first (a verdict's audit record is relayed too), then the events relay reads the stream.
  const whenIdle = async () => {
    await scans.whenIdle();
    await backend!.relay?.drain();
  };
  return {
    kind: 'aws',
    url: server.url,
    whenIdle,
    pauseScans: () => scans.pause(),
    snapshot: async () => {
      await whenIdle();
      return snapshotOf(clients, env);
    },
    storedBlobs: async () => {
      await whenIdle();
      const keys = await listObjects(clients, env[ENV.bucket]!, BUCKET_LAYOUT.blobPrefix);
      return keys.map((o) => o.key.slice(o.key.lastIndexOf('/') + 1)).sort();
    },
    close: async () => {
      await scans.pause();
      await server.close();
    },
  };
}

/**
 * Feeds the scan handler from the queue, as Lambda's event source mapping would. Every receive runs
 * on one chain, so a drain queued behind the background polling sees the queue only once the batch
 * in flight has been handled and deleted.
 */
class ScanDriver {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(private readonly backend: AwsBackend) {
    this.schedule();
  }

  whenIdle(): Promise<void> {
    if (this.paused) return this.chain.then(() => undefined);
    return this.enqueue(() => this.drain());
  }

  /** Stops scanning: what is queued stays queued, so uploads stay `pending`. */
  async pause(): Promise<void> {
    this.paused = true;
    clearTimeout(this.timer);
    await this.chain;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      // A failed receive surfaces at the next whenIdle(), which drains again; here it only retries.
      void this.enqueue(() => this.drain())
        .catch(() => undefined)
        .finally(() => {
          if (!this.paused) this.schedule();
        });
    }, POLL_INTERVAL_MS);
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const turn = this.chain.then(() => (this.paused ? undefined : step()));
    this.chain = turn.catch(() => undefined);
    return turn;
  }

  private async drain(): Promise<void> {
    while ((await this.backend.poller.pollOnce(0)) > 0) {}
  }
}

async function snapshotOf(clients: AwsClients, env: NodeJS.ProcessEnv): Promise<unknown> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await clients.dynamodb.send(
      new ScanCommand({ TableName: env[ENV.table], ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    start = page.LastEvaluatedKey;
  } while (start);
  const key = (i: Record<string, unknown>) => `${i.pk}\u0000${i.sk}`;
  items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { items, objects: await listObjects(clients, env[ENV.bucket]!) };
}

async function listObjects(
  clients: AwsClients,
  bucket: string,
  prefix?: string,
): Promise<{ key: string; size: number }[]> {
  const objects: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    objects.push(...(page.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0 })));
    token = page.NextContinuationToken;
  } while (token);
  return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
