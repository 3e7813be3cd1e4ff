import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (closed again before it is returned, so a tiny race remains). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `command` runs at all (`--help`/`--version` style probe). */
export function commandWorks(command: string, args: readonly string[]): boolean {
  const probe = spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 });
  return probe.error === undefined && probe.status === 0;
}

/**
 * A child process the bench started. It runs in its own process group so `stop()` ends it and
 * whatever it spawned (npx → tsx → node) by that group id, and nothing else.
 */
export class Child {
  readonly exited: Promise<number | null>;

  constructor(readonly process: ChildProcess) {
    this.exited = new Promise((resolve) => {
      if (process.exitCode !== null) resolve(process.exitCode);
      process.once('exit', (code) => resolve(code));
      process.once('error', () => resolve(-1));
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** SIGTERM to the group, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running || this.pid < 0) return;
    signalGroup(this.pid, 'SIGTERM');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([this.exited, timer])) === 'timeout') {
      signalGroup(this.pid, 'SIGKILL');
      await this.exited;
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Children still running: detached, they would outlive a bench that is killed. */
const live = new Set<Child>();

/** Starts `command` detached in its own process group (see {@link Child}). */
export function startChild(command: string, args: readonly string[], options: SpawnOptions): Child {
  const child = new Child(spawn(command, args, { ...options, detached: true }));
  live.add(child);
  void child.exited.then(() => live.delete(child));
  return child;
}

/** SIGKILL to every child's group, synchronously: what a bench stopped by a signal does last. */
export function killAllChildren(): void {
  for (const child of live) if (child.pid > 0) signalGroup(child.pid, 'SIGKILL');
  live.clear();
}

/** Runs a command to completion and resolves with its exit code and captured output. */
export function runToEnd(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `url` until it answers 2xx, or fails after `timeoutMs` or when `child` exits first. */
export async function waitUntilAnswering(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(`the process serving ${url} exited (code ${child.process.exitCode})`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** The processes below `root` in the process tree (from /proc; Linux only), each with its depth. */
export function descendants(root: number): { pid: number; depth: number; cmdline: string }[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  const out: { pid: number; depth: number; cmdline: string }[] = [];
  const walk = (pid: number, depth: number) => {
    for (const [child, parent] of parentOf) {
      if (parent !== pid) continue;
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        continue;
      }
      out.push({ pid: child, depth, cmdline });
      walk(child, depth + 1);
    }
  };
  walk(root, 1);
  return out;
}

/**
 * The process actually running `script` under an `npx tsx <script>` wrapper: the deepest descendant
 * (or the root itself) whose command line names the script and is node.
 */
export function findScriptProcess(root: number, script: string): number | undefined {
  const candidates = [{ pid: root, depth: 0, cmdline: readCmdline(root) }, ...descendants(root)]
    .filter((p) => p.cmdline.includes(script) && /(^|\/)node\b/.test(p.cmdline.split(' ')[0] ?? ''))
    .sort((a, b) => b.depth - a.depth);
  return candidates[0]?.pid;
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** A `Vm*` field of /proc/<pid>/status in bytes, or undefined once the process is gone. */
export function vmField(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resets the peak-RSS mark (VmHWM) of `pid` so the next reading covers only what follows
 * (`echo 5 > /proc/<pid>/clear_refs`, Linux ≥ 4.0). Returns false when the kernel refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples the peak RSS of the process running `script` below `root` every `intervalMs` until stopped:
 * VmHWM only grows, so the last reading before exit is the peak up to the sampling gap.
 */
export function samplePeakRss(root: number, script: string, intervalMs = 20): () => number | undefined {
  let peak: number | undefined;
  let pid: number | undefined;
  const sample = () => {
    // Discovering the process walks /proc; do it only until found, then read one file per sample.
    pid ??= findScriptProcess(root, script);
    const hwm = pid === undefined ? undefined : vmField(pid, 'VmHWM');
    if (hwm !== undefined) peak = Math.max(peak ?? 0, hwm);
  };
  const timer = setInterval(sample, intervalMs);
  return () => {
    sample();
    clearInterval(timer);
    return peak;
  };
}
