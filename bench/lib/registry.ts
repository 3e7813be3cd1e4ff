import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { httpRequest } from './http.ts';
import { type Child, commandWorks, freePort, startChild, vmField, waitUntilAnswering } from './processes.ts';

/** CNCF Distribution as Debian packages it. */
export const REGISTRY_BIN = process.env['BENCH_REGISTRY_BIN'] ?? '/usr/bin/docker-registry';
export const REGISTRY_HINT = 'apt-get install docker-registry';

export function registryVersion(): string | undefined {
  if (!existsSync(REGISTRY_BIN) || !commandWorks(REGISTRY_BIN, ['--version'])) return undefined;
  return 'docker-registry (CNCF Distribution)';
}

/**
 * A CNCF Distribution registry on 127.0.0.1 with a filesystem root of its own: the anchor for
 * publishing (blob pushes), fetching (blob GETs) and GC (`garbage-collect`, registry stopped).
 */
export class Registry {
  private child: Child | undefined;
  url = '';

  private constructor(
    readonly root: string,
    private readonly configPath: string,
    private readonly logPath: string,
  ) {}

  /** Writes the config (temporary root, delete enabled, a free port) and starts the registry. */
  static async start(dir: string): Promise<Registry> {
    const registry = await Registry.create(dir);
    await registry.resume();
    return registry;
  }

  /** Writes the config and root but leaves the registry stopped (for `garbage-collect`). */
  static async create(dir: string): Promise<Registry> {
    await mkdir(join(dir, 'root'), { recursive: true });
    const port = await freePort();
    const configPath = join(dir, 'config.yml');
    await writeFile(
      configPath,
      [
        'version: 0.1',
        'log:',
        '  level: info',
        'storage:',
        '  cache:',
        '    blobdescriptor: inmemory',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'root')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    const registry = new Registry(join(dir, 'root'), configPath, join(dir, 'registry.log'));
    registry.url = `http://127.0.0.1:${port}`;
    return registry;
  }

  get pid(): number | undefined {
    return this.child?.running ? this.child.pid : undefined;
  }

  /** (Re)starts the server process on the same config and root. */
  async resume(): Promise<void> {
    if (this.child?.running) return;
    const log = openSync(this.logPath, 'a');
    this.child = startChild(REGISTRY_BIN, ['serve', this.configPath], { stdio: ['ignore', log, log] });
    closeSync(log);
    await waitUntilAnswering(`${this.url}/v2/`, this.child);
  }

  async stop(): Promise<void> {
    await this.child?.stop();
  }

  /** Pushes one blob the way `docker push` does when it has the digest: POST, then a monolithic PUT. */
  async pushBlob(repo: string, body: Buffer | Readable, size: number, sha256: string): Promise<void> {
    const started = await httpRequest(`${this.url}/v2/${repo}/blobs/uploads/`, {
      method: 'POST',
      headers: { 'content-length': '0' },
    });
    const location = started.headers.location;
    if (started.status !== 202 || !location) throw new Error(`registry upload start: ${started.status}`);
    const target = new URL(location, this.url);
    target.searchParams.set('digest', `sha256:${sha256}`);
    const done = await httpRequest(target.toString(), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
    });
    if (done.status !== 201) {
      throw new Error(`registry blob PUT: ${done.status} ${done.body.toString('utf8').slice(0, 200)}`);
    }
  }

  blobUrl(repo: string, sha256: string): string {
    return `${this.url}/v2/${repo}/blobs/sha256:${sha256}`;
  }

  /**
   * Lays out `count` blobs exactly as pushes leave them (blob data plus a repository layer link), but
   * writes them straight to the filesystem: no manifest references them, so all are garbage. Pushing
   * 100,000 blobs over HTTP would take minutes and measure the push, not the collector.
   */
  async seedUnreferencedBlobs(repo: string, hexes: readonly string[], data: Buffer): Promise<void> {
    const v2 = join(this.root, 'docker/registry/v2');
    const batch = 256;
    for (let i = 0; i < hexes.length; i += batch) {
      await Promise.all(
        hexes.slice(i, i + batch).map(async (hex) => {
          const blobDir = join(v2, 'blobs/sha256', hex.slice(0, 2), hex);
          const linkDir = join(v2, 'repositories', repo, '_layers/sha256', hex);
          await Promise.all([mkdir(blobDir, { recursive: true }), mkdir(linkDir, { recursive: true })]);
          await Promise.all([
            writeFile(join(blobDir, 'data'), data),
            writeFile(join(linkDir, 'link'), `sha256:${hex}`),
          ]);
        }),
      );
    }
  }

  /**
   * Runs `garbage-collect` (the registry must be stopped) and resolves with its wall time, exit code
   * and the collector's peak RSS (sampled from /proc).
   */
  async garbageCollect(dryRun: boolean): Promise<{ ms: number; code: number | null; peakRss?: number }> {
    if (this.child?.running) throw new Error('stop the registry before garbage-collect');
    const args = ['garbage-collect', ...(dryRun ? ['--dry-run'] : []), this.configPath];
    const log = openSync(this.logPath, 'a');
    const started = performance.now();
    const child = spawn(REGISTRY_BIN, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    const stopSampling = sampleRss(child.pid);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    const ms = performance.now() - started;
    return { ms, code, peakRss: stopSampling() };
  }
}

function sampleRss(pid: number | undefined): () => number | undefined {
  let peak: number | undefined;
  const sample = () => {
    const hwm = pid === undefined ? undefined : vmField(pid, 'VmHWM');
    if (hwm !== undefined) peak = Math.max(peak ?? 0, hwm);
  };
  const timer = setInterval(sample, 20);
  return () => {
    clearInterval(timer);
    return peak;
  };
}
