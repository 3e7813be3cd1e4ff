import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ArcaTarget, VersionRef } from './arcaClient.ts';
import { startChild, vmField } from './processes.ts';

/** The CLI, run the way users run it (`bin/arca.js`, which loads cli/main.ts through tsx). */
export function cliAvailable(repoRoot: string): boolean {
  return existsSync(join(repoRoot, 'cli/main.ts')) && existsSync(join(repoRoot, 'bin/arca.js'));
}

export interface CliRun {
  readonly ms: number;
  readonly code: number | null;
  readonly peakRss: number | undefined;
  readonly stderr: string;
}

/**
 * Runs `arca <args…>` as a child process against `target` (through `entry`: by default `bin/arca.js`,
 * or the standalone bundle `npm run build` writes) and samples its peak RSS (VmHWM) every
 * 20 ms. The wall time includes Node's start-up and the CLI's own sha256 pass over its input.
 */
export async function runCli(
  repoRoot: string,
  target: ArcaTarget,
  args: readonly string[],
  entry = join(repoRoot, 'bin/arca.js'),
): Promise<CliRun> {
  const started = performance.now();
  const child = startChild('node', [entry, ...args, '--quiet'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ARCA_URL: target.url, ARCA_TOKEN: target.token },
  });
  let stderr = '';
  child.process.stderr?.on('data', (d) => {
    stderr += d;
  });
  let peakRss: number | undefined;
  const timer = setInterval(() => {
    const hwm = vmField(child.pid, 'VmHWM');
    if (hwm !== undefined) peakRss = Math.max(peakRss ?? 0, hwm);
  }, 20);
  const code = await child.exited.finally(() => clearInterval(timer));
  return { ms: performance.now() - started, code, peakRss, stderr };
}

export const refText = (ref: VersionRef) => `${ref.namespace}/${ref.package}@${ref.version}`;
