import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { type Child, commandWorks, freePort, startChild, waitUntilAnswering } from './processes.ts';

export const MOTO_HINT = 'pip install "moto[server]"';

/** moto's server command on this host, or undefined. */
export function motoCommand(): string[] | undefined {
  if (commandWorks('moto_server', ['--help'])) return ['moto_server'];
  if (commandWorks('python3', ['-m', 'moto.server', '--help'])) return ['python3', '-m', 'moto.server'];
  return undefined;
}

export interface Moto {
  readonly endpoint: string;
  /** What an SDK client or an Arca server needs to talk to it. */
  readonly env: Record<string, string>;
  readonly child: Child;
}

/** Starts moto on a free 127.0.0.1 port. */
export async function startMoto(command: readonly string[], dir: string): Promise<Moto> {
  const port = await freePort();
  const log = openSync(join(dir, `moto-${port}.log`), 'a');
  const [bin, ...args] = command;
  const child = startChild(bin!, [...args, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(`${endpoint}/moto-api/`, child, 30_000);
  return {
    endpoint,
    child,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    },
  };
}
