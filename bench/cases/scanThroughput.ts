import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { OsvDatabaseFiles } from '../../functions/adapters/osvDatabase.ts';
import { scannersFromEnv } from '../../functions/adapters/scanEngines.ts';
import type { Scanner } from '../../functions/core/scanners.ts';
import { tar } from '../../test/support/archives.ts';
import { startClamd } from '../../test/support/clamd.ts';
import type { BenchContext } from '../lib/context.ts';
import { median } from '../lib/stats.ts';

const CASE = '9 scan throughput';
const TOTAL_BYTES = 256 * 2 ** 20;
const ENTRIES = 10_000;

/**
 * Case 9: the scan of a 256 MiB tar.gz of 10,000 files, read from disk in one pass as the scan
 * worker reads a staged object: Arca's built-in engines, then with ClamAV (clamd, every file inside
 * streamed to it) and OSV matching (the fixture database; the archive carries a CycloneDX SBOM),
 * against `clamscan` alone on the same file with the same signatures. The signature database is
 * the tests' own (test/support/clamd.ts), not ClamAV's: no database is downloaded.
 */
export async function scanThroughput(ctx: BenchContext): Promise<void> {
  const file = join(ctx.tmp, 'scan-bench.tar.gz');
  ctx.progress(`${CASE}: writing ${ENTRIES} files, ${TOTAL_BYTES >> 20} MiB, gzipped`);
  await writeArchive(file);
  const size = (await stat(file)).size;
  const mb = size / 1e6;
  const base = { case: CASE, unit: 'MB/s', better: 'higher' } as const;
  const runs = ctx.scale.name === 'tiny' ? 1 : 3;

  const builtIn = await repeat(runs, () => scanFile(file, scannersFromEnv({})));
  const clamd = await startClamd();
  ctx.defer(() => clamd.stop());
  const full = scannersFromEnv({ ARCA_CLAMD: clamd.address });
  const advisories = new OsvDatabaseFiles(join(ctx.repoRoot, 'test/fixtures/osv/db'));
  const withEngines = await repeat(runs, () => scanFile(file, full, advisories));
  const clamscan = await repeat(runs, () => runClamscan(clamd.databaseDir, file));
  const anchor = {
    name: '`clamscan` alone, same file and signatures',
    value: mb / (median(clamscan) / 1000),
  };

  ctx.add({ ...base, name: 'Arca scan, built-in engines', value: mb / (median(builtIn) / 1000), anchor });
  ctx.add({
    ...base,
    name: 'Arca scan + ClamAV (clamd) + OSV',
    value: mb / (median(withEngines) / 1000),
    anchor,
    target: { op: '≥', value: 0.8 * anchor.value, text: '≥ 0.8× clamscan' },
  });
}

async function repeat(times: number, run: () => Promise<number>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) ms.push(await run());
  return ms;
}

/** One scan pass over the file as scan.ts runs it (every scanner fed every chunk); milliseconds. */
async function scanFile(
  path: string,
  scanners: readonly Scanner[],
  advisories?: OsvDatabaseFiles,
): Promise<number> {
  const started = performance.now();
  const passes = scanners.map((s) => s.start());
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    for (const pass of passes) {
      const pending = pass.update(chunk as Buffer);
      if (pending) await pending;
    }
  }
  for (const pass of passes) await pass.finish();
  const sboms = passes.flatMap((p) => p.sboms?.() ?? []);
  if (advisories) (await advisories.current()).match(sboms.flatMap((s) => s.components));
  return performance.now() - started;
}

function runClamscan(databaseDir: string, file: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // Its default limits stop reading an archive after 100 MB or 10,000 files: lifted, so it reads
    // everything Arca reads.
    const limits = ['--max-filesize=4000M', '--max-scansize=4000M', '--max-files=0', '--max-recursion=4'];
    const args = ['--no-summary', '--infected', ...limits, '-d', databaseDir, file];
    const child = spawn('clamscan', args, { stdio: 'ignore' });
    child.on('error', reject);
    // clamscan exits 0 when clean, 1 when it found something: both are a completed scan.
    child.on('exit', (code) =>
      code === 0 || code === 1
        ? resolve(performance.now() - started)
        : reject(new Error(`clamscan exited ${code}`)),
    );
  });
}

/** 10,000 files of pseudo-random text (compressing about 2:1), plus one SBOM, streamed through gzip. */
async function writeArchive(path: string): Promise<void> {
  const perFile = Math.floor(TOTAL_BYTES / ENTRIES);
  const words = Array.from({ length: 4096 }, (_, i) => ((i * 2654435761) >>> 0).toString(36));
  let seed = 1;
  const text = () => {
    const out: string[] = [];
    let length = 0;
    while (length < perFile) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const word = words[(seed >>> 16) % words.length]!;
      out.push(word);
      length += word.length + 1;
    }
    return out.join(' ').slice(0, perFile);
  };
  const sbom = JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    components: [{ type: 'library', name: 'lodash', version: '4.17.20', purl: 'pkg:npm/lodash@4.17.20' }],
  });
  async function* blocks() {
    const header = tar([{ path: 'sbom.cdx.json', data: sbom }]);
    yield header.subarray(0, header.length - 1024);
    for (let i = 0; i < ENTRIES; i++) {
      const entry = tar([{ path: `src/module-${i}.txt`, data: text() }]);
      yield entry.subarray(0, entry.length - 1024);
    }
    yield Buffer.alloc(1024);
  }
  await pipeline(blocks(), createGzip({ level: 6 }), createWriteStream(path));
}
