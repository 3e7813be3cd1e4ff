import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createAwsBackend } from '../../functions/adapters/aws/awsBackend.ts';
import type { HostedBackend } from '../../functions/local/server.ts';

/**
 * The AWS backend on moto for `ARCA_CLI_TEST_BACKEND=aws`: the same adapters the Lambdas use, on a
 * moto server of the suite's own, hosted by the local server until `ARCA_BACKEND=aws` lands there.
 */
export async function startMotoBackend(multipartThreshold: number): Promise<{
  backend: () => Promise<HostedBackend>;
  stop(): void;
}> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(endpoint, child);
  // The SDK's credential chain reads process.env itself; moto accepts any keys.
  Object.assign(process.env, {
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
  };
  return {
    backend: () => createAwsBackend(env, { pollWaitSeconds: 1 }),
    stop: () => child.kill('SIGTERM'),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
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
