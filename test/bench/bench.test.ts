import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchResults, caseNumbers, renderResults, runBench } from '../../bench/main.ts';

/**
 * A smoke run of `npm run bench` at tiny sizes (a few 1 KiB publishes, MiB-sized "large" files,
 * 200 GC blobs). It checks that the bench completes and writes well-formed results — never a timing:
 * timings belong to `npm run bench` on a quiet machine, not to `npm test`. The hook's limit only
 * catches a hang: on this shared 2-core machine the run has taken over 90 s under load.
 */
describe('npm run bench at tiny scale', () => {
  let dir: string;
  let results: BenchResults;
  let written: BenchResults;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arca-bench-test-'));
    const outFile = join(dir, 'results.json');
    results = await runBench({ env: { ...process.env, BENCH_SCALE: 'tiny' }, outFile, progress: () => {} });
    written = JSON.parse(await readFile(outFile, 'utf8')) as BenchResults;
  }, 300_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the results it returns, with the machine, the date and the command', () => {
    expect(written).toEqual(JSON.parse(JSON.stringify(results)));
    expect(written.command).toBe('npm run bench');
    expect(Number.isNaN(Date.parse(written.date))).toBe(false);
    expect(written.machine.nproc).toBeGreaterThan(0);
    expect(written.scale.name).toBe('tiny');
  });

  it('reports a row for each case', () => {
    const cases = new Set(written.rows.map((r) => r.case.split(' ')[0]));
    expect([...cases].sort()).toEqual(caseNumbers().sort());
  });

  it('gives every row either a finite figure or the reason it has none', () => {
    for (const row of written.rows) {
      expect(typeof row.name).toBe('string');
      expect(typeof row.unit).toBe('string');
      if (row.value === null) expect(row.status).toEqual(expect.any(String));
      else expect(Number.isFinite(row.value)).toBe(true);
      if (row.target) expect(typeof row.target.met).toBe('boolean');
    }
  });

  it('prints a table with every target beside its figure', () => {
    const table = renderResults(written);
    expect(table).toContain('| target');
    for (const row of written.rows.filter((r) => r.target && !r.status)) {
      expect(table).toContain(`${row.target!.text} ${row.target!.met ? 'met' : 'MISSED'}`);
    }
  });
});
