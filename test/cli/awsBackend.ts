import { type ChildProcess, spawn } from 'node:child_process';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createAwsBackend } from '../../functions/adapters/aws/awsBackend.ts';
import type { HostedBackend } from '../../functions/local/server.ts';
import { freePort } from '../support/childServer.ts';
import { startMotoProxy } from './motoProxy.ts';

/**
 * The AWS backend on moto for `ARCA_CLI_TEST_BACKEND=aws`: the same adapters the Lambdas use, on a
 * moto server of the suite's own, hosted by the local server until `ARCA_BACKEND=aws` lands there.
 */
export async function startMotoBackend(
  multipartThreshold: number,
  failPartPuts: readonly number[] = [],
  scanEnv: Readonly<Record<string, string>> = {},
): Promise<{
  backend: () => Promise<HostedBackend>;
  /** Status of every PUT to a staging key, as S3 answered it (or the proxy's injected 500). */
  stagingPuts: number[];
  /** Flips one byte of a stored blob, behind Arca's back. */
  tamper(sha256: string): Promise<void>;
  stop(): Promise<void>;
}> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  await waitUntilAnswering(`http://127.0.0.1:${port}`, child);
  const proxy = await startMotoProxy(`http://127.0.0.1:${port}`, failPartPuts);
  const endpoint = proxy.url;
  // The SDK's credential chain reads process.env itself; moto accepts any keys.
  Object.assign(process.env, {
    // Powertools Metrics would print an EMF document per scan into the test output.
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
  });
  const suffix = `cli-${process.pid}-${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    ARCA_BUCKET: `arca-${suffix}`,
    ARCA_TABLE: `arca-${suffix}`,
    ARCA_SCAN_QUEUE: `arca-${suffix}`,
    ARCA_MULTIPART_THRESHOLD: String(multipartThreshold),
    ...scanEnv,
  };
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
  });
  return {
    backend: () =>
      createAwsBackend(env, {
        pollWaitSeconds: 1,
        logger: new Logger({ logLevel: process.env.ARCA_TEST_SERVER_LOG ? 'INFO' : 'SILENT' }),
      }),
    stagingPuts: proxy.stagingPuts,
    tamper: async (sha256) => {
      const Key = `blobs/sha256/${sha256.slice(0, 2)}/${sha256}`;
      const got = await s3.send(new GetObjectCommand({ Bucket: env.ARCA_BUCKET, Key }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0xff;
      await s3.send(new PutObjectCommand({ Bucket: env.ARCA_BUCKET, Key, Body: bytes }));
    },
    stop: async () => {
      s3.destroy();
      await proxy.close();
      child.kill('SIGTERM');
    },
  };
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    const ok = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer at ${endpoint}`);
}
