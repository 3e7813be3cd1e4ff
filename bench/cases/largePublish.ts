import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { publishFile, type VersionRef, waitAvailable } from '../lib/arcaClient.ts';
import { refText, runCli } from '../lib/cli.ts';
import type { BenchContext } from '../lib/context.ts';
import { sha256File, stampFile, writeDeterministicFile } from '../lib/data.ts';
import { resetPeakRss, vmField } from '../lib/processes.ts';
import { formatSize, mbPerSecond, median } from '../lib/stats.ts';

const CASE = '2 large publish';

/** `cp` to the same disk, then fsync the copy: Arca fsyncs what it stores, so the bound must too. */
async function copyAndSync(from: string, to: string): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const cp = spawn('cp', [from, to], { stdio: 'ignore' });
    cp.on('error', reject);
    cp.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cp exited ${code}`))));
  });
  const handle = await open(to, 'r+');
  await handle.sync().finally(() => handle.close());
  const ms = performance.now() - started;
  await rm(to, { force: true });
  return ms;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

interface SizeRuns {
  readonly sha256: number[];
  readonly raw: number[];
  readonly cli: number[];
  readonly registry: number[];
  readonly cp: number[];
}

/**
 * Case 2: 256 MiB and 1 GiB publishes. Arca's figure is the bench's own streaming client
 * (create → parts, 4 in flight → commit, digest known up front); the CLI runs as a child process when
 * it exists and its time includes its own sha256 pass. Anchors in the same repeat: the registry's
 * monolithic push of the same bytes, `cp` + fsync to the same disk, and sha256 over the file.
 * Each repeat stamps the file so nothing is deduplicated.
 */
export async function largePublish(ctx: BenchContext): Promise<void> {
  const dataDir = join(ctx.tmp, 'data');
  await mkdir(dataDir, { recursive: true });
  const cliPeaks: number[] = [];
  resetPeakRss(ctx.arca.pid);
  const registryPid = ctx.registry?.pid;
  if (registryPid) resetPeakRss(registryPid);

  for (const size of ctx.scale.largeSizes) {
    const path = join(dataDir, `large-${size}.bin`);
    ctx.progress(`large publish: generating ${formatSize(size)}`);
    await writeDeterministicFile(path, size, `large-${size}`);
    const runs: SizeRuns = { sha256: [], raw: [], cli: [], registry: [], cp: [] };
    for (let r = 0; r < ctx.scale.repeats; r++) {
      ctx.progress(`large publish: ${formatSize(size)}, repeat ${r + 1}/${ctx.scale.repeats}`);
      await stampFile(path, `raw-${r}`);
      const hashed = await timed(() => sha256File(path));
      runs.sha256.push(hashed.ms);
      const sha256 = hashed.value;

      const ref: VersionRef = { namespace: 'bench', package: `large-${size}`, version: `raw.${r}` };
      let commitSent = 0;
      const raw = await timed(() =>
        publishFile(
          ctx.arca,
          ref,
          { path, size, sha256 },
          { onCommitStart: () => (commitSent = performance.now()) },
        ),
      );
      runs.raw.push(raw.ms);
      await waitAvailable(ctx.arca, ref, 10);
      const samples = ctx.shared.commitToAvailable.get(size) ?? [];
      samples.push(performance.now() - commitSent);
      ctx.shared.commitToAvailable.set(size, samples);
      ctx.shared.largest = { ref, size, sha256 };

      if (ctx.registry) {
        const registry = ctx.registry;
        const repo = `bench/large-${size}`;
        const pushed = await timed(() =>
          registry.pushBlob(repo, createReadStream(path, { highWaterMark: 1 << 20 }), size, sha256),
        );
        runs.registry.push(pushed.ms);
        ctx.shared.largest = { ref, size, sha256, registryRepo: repo };
      }
      runs.cp.push(await copyAndSync(path, join(dataDir, 'copy.bin')));

      if (ctx.tools.cli) {
        await stampFile(path, `cli-${r}`);
        const cliRef: VersionRef = { namespace: 'bench', package: `large-${size}`, version: `cli.${r}` };
        const run = await runCli(ctx.repoRoot, ctx.arca, ['publish', refText(cliRef), path]);
        if (run.code !== 0) throw new Error(`arca publish exited ${run.code}: ${run.stderr.slice(-500)}`);
        runs.cli.push(run.ms);
        if (run.peakRss !== undefined) cliPeaks.push(run.peakRss);
        await waitAvailable(ctx.arca, cliRef, 50);
      }
    }
    report(ctx, size, runs);
  }

  ctx.peaks.push({
    key: 'server',
    process: 'Arca server (API + storage endpoint + scan worker, one process)',
    during: CASE,
    bytes: vmField(ctx.arca.pid, 'VmHWM'),
  });
  if (registryPid) {
    ctx.peaks.push({
      key: 'registry',
      process: 'docker-registry serve',
      during: CASE,
      bytes: vmField(registryPid, 'VmHWM'),
    });
  }
  ctx.peaks.push({
    key: 'cli',
    process: 'arca publish (CLI)',
    during: CASE,
    bytes: cliPeaks.length > 0 ? Math.max(...cliPeaks) : undefined,
    ...(ctx.tools.cli ? {} : { note: 'CLI not built yet (cli/main.ts)' }),
  });
}

function report(ctx: BenchContext, size: number, runs: SizeRuns): void {
  const mb = (samples: number[]) => (samples.length > 0 ? mbPerSecond(size, median(samples)) : null);
  const ours = mb(runs.raw);
  const name = `embedded ${formatSize(size)}: publish`;
  const base = { case: CASE, unit: 'MB/s', better: 'higher' } as const;
  ctx.add({
    ...base,
    name: `${name} (bench client)`,
    value: ours,
    anchor: {
      name: ctx.registry ? 'docker-registry monolithic push' : 'docker-registry (not installed)',
      value: mb(runs.registry),
    },
    target: { op: '≥', value: 200 },
  });
  ctx.add({
    ...base,
    name: `${name} (bench client)`,
    value: ours,
    anchor: { name: 'cp + fsync, same disk', value: mb(runs.cp) },
  });
  ctx.add({
    ...base,
    name: `${name} (bench client)`,
    value: ours,
    anchor: { name: 'sha256 of the file', value: mb(runs.sha256) },
  });
  const cli = mb(runs.cli);
  ctx.add({
    ...base,
    name: `${name} (arca CLI, incl. its hashing)`,
    value: cli,
    anchor: { name: 'raw PUT (bench client)', value: ours },
    ...(size >= 2 ** 30 && ours !== null
      ? { target: { op: '≥', value: 0.85 * ours, text: '≥ 0.85× raw PUT' } }
      : {}),
    ...(ctx.tools.cli ? {} : { status: 'CLI not built yet' }),
  });
}
