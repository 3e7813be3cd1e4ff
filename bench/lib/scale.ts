import { GiB, MiB } from './stats.ts';

/** How much work each case does: `full` for the published figures, `tiny` for the smoke test. */
export interface Scale {
  readonly name: 'full' | 'tiny';
  /** Repeated runs per measurement; figures are medians over them. */
  readonly repeats: number;
  readonly smallSize: number;
  readonly smallWarmup: number;
  readonly smallSequential: number;
  readonly smallConcurrent: number;
  readonly inFlight: number;
  readonly largeSizes: readonly number[];
  /** Lowered in `tiny` so the multipart path still runs. */
  readonly multipartThreshold?: number;
  readonly commitSamples: number;
  readonly fetchSamples: number;
  readonly gcCount: number;
  readonly coldStartImports: number;
}

const FULL: Scale = {
  name: 'full',
  repeats: 3,
  smallSize: 1024,
  smallWarmup: 30,
  smallSequential: 300,
  smallConcurrent: 1200,
  inFlight: 8,
  largeSizes: [256 * MiB, GiB],
  commitSamples: 100,
  fetchSamples: 300,
  gcCount: 100_000,
  coldStartImports: 10,
};

const TINY: Scale = {
  name: 'tiny',
  repeats: 1,
  smallSize: 1024,
  smallWarmup: 2,
  smallSequential: 8,
  smallConcurrent: 16,
  inFlight: 8,
  largeSizes: [1 * MiB, 3 * MiB],
  multipartThreshold: 2 * MiB,
  commitSamples: 4,
  fetchSamples: 8,
  gcCount: 200,
  coldStartImports: 2,
};

/** The scale named by `BENCH_SCALE` (default `full`), with `BENCH_GC_COUNT`/`BENCH_REPEATS` overrides. */
export function scaleFrom(env: NodeJS.ProcessEnv): Scale {
  const base = env['BENCH_SCALE'] === 'tiny' ? TINY : FULL;
  const int = (name: string) => {
    const raw = env[name];
    const n = raw ? Number(raw) : Number.NaN;
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  };
  return {
    ...base,
    gcCount: int('BENCH_GC_COUNT') ?? base.gcCount,
    repeats: int('BENCH_REPEATS') ?? base.repeats,
  };
}
