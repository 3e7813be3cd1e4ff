import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliStartup } from './cases/cliStartup.ts';
import { coldStart } from './cases/coldStart.ts';
import { commitToAvailable } from './cases/commitToAvailable.ts';
import { directoryPublish } from './cases/directoryPublish.ts';
import { fetchCase } from './cases/fetch.ts';
import { gcCase } from './cases/gc.ts';
import { gcAtScale } from './cases/gcScale.ts';
import { largePublish } from './cases/largePublish.ts';
import { memory } from './cases/memory.ts';
import { metricsScrape } from './cases/metricsScrape.ts';
import { type OnMoto, publishOnMoto } from './cases/onMoto.ts';
import { scanThroughput } from './cases/scanThroughput.ts';
import { searchCase } from './cases/search.ts';
import { smallPublish } from './cases/smallPublish.ts';
import { type ArcaServer, startArcaServer } from './lib/arcaServer.ts';
import { cliAvailable } from './lib/cli.ts';
import { type BenchContext, createRowSink, type PeakReading, type Tools } from './lib/context.ts';
import { TransactAnchor } from './lib/dynamoAnchor.ts';
import { describeMachine } from './lib/machine.ts';
import { MOTO_HINT, motoCommand, startMoto } from './lib/moto.ts';
import { killAllChildren } from './lib/processes.ts';
import { REGISTRY_HINT, Registry, registryVersion } from './lib/registry.ts';
import { formatTable, type Row } from './lib/report.ts';
import { S3Anchor } from './lib/s3Anchor.ts';
import { type Scale, scaleFrom } from './lib/scale.ts';
import { createShared } from './lib/shared.ts';

export const BENCH_COMMAND = 'npm run bench';

export interface BenchOptions {
  readonly repoRoot?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where to write the results; default bench/results.json. */
  readonly outFile?: string;
  /** Progress lines; default stderr. */
  readonly progress?: (line: string) => void;
}

export interface BenchResults {
  readonly command: string;
  readonly date: string;
  readonly machine: ReturnType<typeof describeMachine>;
  readonly scale: Scale;
  readonly tools: Tools;
  readonly rows: Row[];
  readonly peaks: PeakReading[];
  readonly notes: string[];
  readonly errors: string[];
  readonly durationSeconds: number;
}

type Case = (ctx: BenchContext, onMoto: OnMoto | undefined) => Promise<void>;
/** The numbers of the cases, as their rows name them (`10 GC at scale` → `10`). */
export const caseNumbers = (): string[] =>
  CASES.map(([name]) => name.split(' ')[0]!).filter((n) => /^\d+$/.test(n));
const CASES: readonly [string, Case][] = [
  // First, while the machine's memory is free. moto builds each 256 MiB object in ~1.3 GB of fresh
  // memory: with the page cache full of the embedded cases' gigabytes (2 GB free of 24), its
  // CompleteMultipartUpload took 2–3.5 s instead of ~1 s and the large ratio fell from 0.9–1.0× to
  // 0.56–0.74×. Stopped afterwards, so moto's own gigabytes do not weigh on the embedded cases.
  [
    '1, 2 on moto',
    (ctx, onMoto) => (onMoto ? publishOnMoto(ctx, onMoto).finally(onMoto.stop) : skipMoto(ctx)),
  ],
  ['1 small publish', smallPublish],
  ['2 large publish', largePublish],
  ['3 commit → available', commitToAvailable],
  ['4 fetch', fetchCase],
  ['5 GC', gcCase],
  ['6 Lambda cold-start proxy', (ctx) => coldStart(ctx)],
  ['7 memory', memory],
  ['8 CLI package', (ctx) => cliStartup(ctx)],
  ['9 scan throughput', scanThroughput],
  ['10 GC at scale', gcAtScale],
  ['11 metrics', metricsScrape],
  ['12 search', searchCase],
  ['13 directory publish', directoryPublish],
];

function skipMoto(ctx: BenchContext): Promise<void> {
  const status = ctx.tools.moto ? 'AWS backend not built yet' : 'moto not installed';
  const base = { value: null, status } as const;
  ctx.add({
    ...base,
    case: '1 small publish',
    name: 'moto 1 KiB publish',
    unit: 'ms',
    better: 'lower',
    anchor: { name: 'raw S3 PutObject (moto)', value: null },
  });
  ctx.add({
    ...base,
    case: '2 large publish',
    name: 'moto large publish',
    unit: 'MB/s',
    better: 'higher',
    anchor: { name: 'raw SDK multipart (moto)', value: null },
    target: { op: '≥', value: 0, text: '≥ 0.9× raw multipart' },
  });
  return Promise.resolve();
}

/** Bucket, table and queue name of the Arca server on moto (the raw-transaction anchor writes there). */
const MOTO_RESOURCES = 'arca-bench';

/**
 * The AWS backend on moto, when both exist: a server started with `ARCA_BACKEND=aws` must report
 * `backend: aws` in its "listening" line, else the backend is not wired in yet.
 */
async function detectAwsBackend(
  repoRoot: string,
  tmp: string,
  notes: string[],
  cleanups: (() => Promise<void> | void)[],
): Promise<{ moto: boolean; onMoto: OnMoto | undefined }> {
  const command = motoCommand();
  if (!command) {
    notes.push(`moto not found: the AWS-backend rows are skipped (${MOTO_HINT}).`);
    return { moto: false, onMoto: undefined };
  }
  const moto = await startMoto(command, tmp);
  cleanups.push(() => moto.child.stop());
  try {
    const arca = await startArcaServer({
      repoRoot,
      dataDir: join(tmp, 'arca-aws', 'data'),
      env: {
        ...moto.env,
        ARCA_BACKEND: 'aws',
        ARCA_BUCKET: MOTO_RESOURCES,
        ARCA_TABLE: MOTO_RESOURCES,
        ARCA_SCAN_QUEUE: MOTO_RESOURCES,
      },
    });
    cleanups.push(() => arca.stop());
    if (arca.backend === 'aws') {
      const s3 = await S3Anchor.create(moto);
      const dynamo = new TransactAnchor(moto, MOTO_RESOURCES);
      cleanups.push(
        () => s3.close(),
        () => dynamo.close(),
      );
      const stop = async () => {
        await arca.stop();
        await moto.child.stop();
      };
      return { moto: true, onMoto: { arca, s3, dynamo, stop } };
    }
    notes.push(
      `ARCA_BACKEND=aws still serves the ${arca.backend} backend: the moto rows wait for the AWS adapters.`,
    );
    await arca.stop();
  } catch (error) {
    notes.push(
      `ARCA_BACKEND=aws did not start (${String(error).split('\n')[0]}): the moto rows are skipped.`,
    );
  }
  await moto.child.stop();
  return { moto: true, onMoto: undefined };
}

const repoRootOf = () => resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs every case against the local Arca and its anchors on this machine, in this one run. A case
 * that fails is reported and the others still run; temp dirs and child processes go away at the end.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchResults> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const repoRoot = options.repoRoot ?? repoRootOf();
  const scale = scaleFrom(env);
  const progress = options.progress ?? ((line: string) => process.stderr.write(`[bench] ${line}\n`));
  const cleanups: (() => Promise<void> | void)[] = [];
  const rows: Row[] = [];
  const notes: string[] = [];
  const peaks: PeakReading[] = [];
  const errors: string[] = [];
  const tmp = await mkdtemp(join(tmpdir(), 'arca-bench-'));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  try {
    progress(`scale ${scale.name}; temp dir ${tmp}`);
    await mkdir(join(tmp, 'arca'), { recursive: true });
    const { moto, onMoto } = await detectAwsBackend(repoRoot, tmp, notes, cleanups);
    const tools: Tools = {
      registry: registryVersion() !== undefined,
      moto,
      awsBackend: onMoto !== undefined,
      cli: cliAvailable(repoRoot),
    };
    if (!tools.registry)
      notes.push(`docker-registry not found: the registry anchors are skipped (${REGISTRY_HINT}).`);
    if (!tools.cli) notes.push('cli/main.ts not found: large publishes use only the bench client.');
    const arca: ArcaServer = await startArcaServer({
      repoRoot,
      dataDir: join(tmp, 'arca', 'data'),
      env: scale.multipartThreshold ? { ARCA_MULTIPART_THRESHOLD: String(scale.multipartThreshold) } : {},
    });
    cleanups.push(() => arca.stop());
    const registry = tools.registry ? await Registry.start(join(tmp, 'registry')) : undefined;
    if (registry) cleanups.push(() => registry.stop());
    const ctx: BenchContext = {
      repoRoot,
      tmp,
      scale,
      tools,
      arca,
      registry,
      rows,
      notes,
      peaks,
      shared: createShared(),
      add: createRowSink(rows),
      note: (text) => notes.push(text),
      progress,
      defer: (cleanup) => cleanups.push(cleanup),
    };
    const only = env['BENCH_ONLY']?.split(';').map((n) => n.trim());
    for (const [name, run] of CASES) {
      if (only && !only.some((prefix) => name.startsWith(prefix))) continue;
      try {
        await run(ctx, onMoto);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        errors.push(`${name}: ${message}`);
        ctx.add({
          case: name,
          name: 'case failed',
          value: null,
          unit: '',
          better: 'lower',
          status: `failed: ${String(error).split('\n')[0]!.slice(0, 80)}`,
        });
        progress(`case ${name} failed: ${message}`);
      }
    }
    const results: BenchResults = {
      command: BENCH_COMMAND,
      date: new Date().toISOString(),
      machine: describeMachine(),
      scale,
      tools,
      rows: sortByCase(rows),
      peaks,
      notes,
      errors,
      durationSeconds: Math.round((Date.now() - started) / 1000),
    };
    const outFile =
      options.outFile ??
      join(repoRoot, env['BENCH_ONLY'] ? 'bench/results.partial.json' : 'bench/results.json');
    await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
    return results;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        progress(`cleanup failed: ${String(error)}`);
      }
    }
  }
}

/** Rows grouped by case number, keeping each case's own order. */
const sortByCase = (rows: Row[]): Row[] =>
  rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.case.localeCompare(b.r.case, 'en', { numeric: true }) || a.i - b.i)
    .map(({ r }) => r);

/** The table and notes as `npm run bench` prints them. */
export function renderResults(results: BenchResults): string {
  const m = results.machine;
  return [
    `Arca bench — ${results.date} — ${m.nproc} CPU (${m.cpu}), ${m.memoryGiB} GiB RAM, Node ${m.node}, scale ${results.scale.name}`,
    '',
    formatTable(results.rows),
    '',
    ...[...new Set(results.rows.flatMap((r) => (r.note ? [`${r.case}: ${r.note}`] : [])))].map(
      (n) => `note: ${n}`,
    ),
    ...results.notes.map((n) => `note: ${n}`),
    ...results.errors.map((e) => `ERROR: ${e.split('\n')[0]}`),
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const stopBySignal = (signal: NodeJS.Signals) => {
    // The children run in process groups of their own: take them down too, or they outlive the bench
    // (a moto left behind holds gigabytes).
    killAllChildren();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stopBySignal);
  process.once('SIGTERM', stopBySignal);
  const results = await runBench();
  process.stdout.write(`${renderResults(results)}\n`);
  const written = process.env['BENCH_ONLY'] ? 'results.partial.json' : 'results.json';
  process.stdout.write(`\nwrote bench/${written} (${results.durationSeconds} s)\n`);
  if (results.errors.length > 0) process.exitCode = 1;
}
