import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from '../support/childServer.ts';

/**
 * A moto server for one test file: started on 127.0.0.1 with a free port before the file's tests,
 * killed after them. Each vitest fork has its own process, so each file gets its own server and its
 * own `AWS_*` environment, and files can run in parallel without sharing state.
 */
export interface Moto {
  readonly endpoint: string;
  /** Drops every resource moto holds: call it at the start of a suite that provisions its own. */
  reset(): Promise<void>;
}

const INSTALL_HINT = 'install it with: pip install "moto[server]"';

function motoCommand(): string[] {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0) return ['moto_server'];
  const viaPython = spawnSync('python3', ['-m', 'moto.server', '--help'], { stdio: 'ignore' });
  if (viaPython.status === 0) return ['python3', '-m', 'moto.server'];
  throw new Error(
    `the AWS integration tests need moto's server (moto_server or python3 -m moto.server); ${INSTALL_HINT}`,
  );
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer at ${endpoint}`);
}

/** Starts moto for the calling test file and points the AWS SDK at it. */
export function useMoto(): Moto {
  let child: ChildProcess | undefined;
  const moto = { endpoint: '', reset };
  async function reset(): Promise<void> {
    const res = await fetch(`${moto.endpoint}/moto-api/reset`, { method: 'POST' });
    if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
  }
  beforeAll(async () => {
    const [command, ...args] = motoCommand();
    const port = await freePort();
    child = spawn(command!, [...args, '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    moto.endpoint = `http://127.0.0.1:${port}`;
    await waitUntilAnswering(moto.endpoint, child);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    });
  });
  afterAll(() => {
    child?.kill('SIGTERM');
  });
  return moto;
}
