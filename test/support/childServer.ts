import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { ADMIN_TOKEN } from './embedded.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface ChildServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves once the process has exited. */
  readonly exited: Promise<number | null>;
}

/** `npm start`'s entry point as a real child process, so tests can kill -9 it. */
export async function startChildServer(
  dataDir: string,
  port: number,
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/main.ts'], {
    env: {
      ...process.env,
      ARCA_DATA_DIR: dataDir,
      ARCA_PORT: String(port),
      ARCA_ADMIN_TOKEN: ADMIN_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (process.env.ARCA_TEST_SERVER_LOG) {
    child.stdout!.pipe(process.stderr);
    child.stderr!.pipe(process.stderr);
  } else {
    child.stdout!.resume();
    child.stderr!.resume();
  }
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const up = await fetch(`${url}/v1/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (up) return { url, process: child, exited };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}
