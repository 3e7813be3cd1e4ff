import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArcaTarget } from './arcaClient.ts';
import { type Child, findScriptProcess, freePort, startChild, waitUntilAnswering } from './processes.ts';

export const SERVER_SCRIPT = 'functions/local/main.ts';

/** The local Arca server as a child process (`npx tsx functions/local/main.ts`). */
export interface ArcaServer extends ArcaTarget {
  readonly child: Child;
  /** The node process running the server under npx/tsx: its /proc entry gives the RSS. */
  readonly pid: number;
  /** The `backend` its "arca listening" log line reports (`embedded`, `aws`, …). */
  readonly backend: string;
  readonly logPath: string;
  stop(): Promise<void>;
}

export interface ArcaServerOptions {
  readonly repoRoot: string;
  readonly dataDir: string;
  /** Extra environment, e.g. `ARCA_BACKEND=aws` with `AWS_ENDPOINT_URL`. */
  readonly env?: Record<string, string>;
}

/** Starts the server on a free port and waits until /v1/health answers. */
export async function startArcaServer(options: ArcaServerOptions): Promise<ArcaServer> {
  const port = await freePort();
  const token = `bench_${process.pid}_${port}`;
  const logPath = join(options.dataDir, '..', `server-${port}.log`);
  mkdirSync(options.dataDir, { recursive: true });
  const log = openSync(logPath, 'a');
  const child = startChild('npx', ['tsx', SERVER_SCRIPT], {
    cwd: options.repoRoot,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      ARCA_DATA_DIR: options.dataDir,
      ARCA_PORT: String(port),
      ARCA_HOST: '127.0.0.1',
      ARCA_ADMIN_TOKEN: token,
      ...options.env,
    },
  });
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(`${url}/v1/health`, child, 60_000);
  } catch (error) {
    await child.stop();
    const tail = readFileSync(logPath, 'utf8').slice(-2000);
    throw new Error(`the Arca server did not start: ${(error as Error).message}\n${tail}`);
  }
  const pid = findScriptProcess(child.pid, SERVER_SCRIPT) ?? child.pid;
  return { url, token, child, pid, backend: listeningBackend(logPath), logPath, stop: () => child.stop() };
}

function listeningBackend(logPath: string): string {
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    try {
      const entry = JSON.parse(line) as { msg?: string; backend?: string };
      if (entry.msg === 'arca listening') return entry.backend ?? 'unknown';
    } catch {
      // not a JSON log line
    }
  }
  return 'unknown';
}
