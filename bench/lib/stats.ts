/** Summary statistics for latency samples and repeated runs. */

/** The nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
}

export function summarise(samples: readonly number[]): LatencySummary {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), count: samples.length };
}

/** Milliseconds since `start` (a `performance.now()` reading). */
export const since = (start: number): number => performance.now() - start;

/** Runs `fn` `repeats` times and returns each result, for a median over repeated runs. */
export async function repeat<T>(repeats: number, fn: (run: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let run = 0; run < repeats; run++) out.push(await fn(run));
  return out;
}

/** Runs `total` tasks with at most `inFlight` at once; resolves with each task's result in order. */
export async function runConcurrently<T>(
  total: number,
  inFlight: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker));
  return results;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Megabytes (10^6 bytes) per second, the unit disk and network figures are usually quoted in. */
export const mbPerSecond = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

/** `256 MiB`, `1 GiB`, `1 KiB`: sizes as the table names them. */
export const formatSize = (bytes: number): string =>
  bytes >= GiB && bytes % GiB === 0
    ? `${bytes / GiB} GiB`
    : bytes >= MiB
      ? `${bytes / MiB} MiB`
      : bytes >= 1024
        ? `${bytes / 1024} KiB`
        : `${bytes} B`;
