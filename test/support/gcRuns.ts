import type { CoreDeps } from '../../functions/core/deps.ts';
import { type GcReport, runGarbageCollection } from '../../functions/core/gc.ts';
import type { Index } from '../../functions/ports.ts';
import { admin } from './coreHarness.ts';
import type { TestClock } from './testClock.ts';

/** Index writes that each begin one GC step or batch. */
export const STEP_STARTS = [
  'expireSession',
  'tombstoneVersion',
  'deleteVersion',
  'markBlobsDeleting',
] as const;
const WRITES = [...STEP_STARTS, 'forgetBlobs', 'saveGcPosition'] as const;

export class Killed extends Error {}

/** One GC run of a scale test: its report (none when killed), and when each step started. */
export interface GcRun {
  readonly report?: GcReport;
  readonly killed: boolean;
  readonly ms: number;
  /** Clock time at which each step or batch of the run started its write, from the run's start. */
  readonly stepStarts: number[];
}

/**
 * The index as one run sees it: each step's start is noted; with `killAfter`, the process "dies"
 * right after that many writes took effect (the write stands, nothing after it runs, and the dead
 * run never releases its lock). A run that ends before its kill is a normal run.
 */
function watched(
  index: Index,
  clock: TestClock,
  started: number,
  stepStarts: number[],
  killAfter?: number,
): Index {
  let writes = 0;
  let dead = false;
  return new Proxy(index, {
    get(target, name, receiver) {
      const real = Reflect.get(target, name, receiver);
      if (typeof real !== 'function') return real;
      if (name === 'releaseGcLock')
        return async (holder: string | null) => (dead ? undefined : real.call(target, holder));
      if (!(WRITES as readonly (string | symbol)[]).includes(name)) return real.bind(target);
      return async (...args: unknown[]) => {
        if ((STEP_STARTS as readonly (string | symbol)[]).includes(name)) {
          stepStarts.push(clock.now().getTime() - started);
        }
        const result = await real.apply(target, args);
        if (killAfter !== undefined && ++writes >= killAfter) {
          dead = true;
          throw new Killed(`killed after ${String(name)}`);
        }
        return result;
      };
    },
  });
}

/**
 * One GC run under `budgetMs`, killed after `killAfter` writes if given. A killed run's lock is left
 * to expire: the clock moves past it (5 minutes) before the next run.
 */
export async function gcRun(
  deps: CoreDeps,
  clock: TestClock,
  budgetMs: number,
  killAfter?: number,
): Promise<GcRun> {
  const stepStarts: number[] = [];
  const index = watched(deps.index, clock, clock.now().getTime(), stepStarts, killAfter);
  const t0 = performance.now();
  try {
    const report = await runGarbageCollection({ ...deps, index }, admin, { maxActions: 1_000_000, budgetMs });
    return { report, killed: false, ms: performance.now() - t0, stepStarts };
  } catch (error) {
    if (!(error instanceof Killed)) throw error;
    clock.advance(6 * 60);
    return { killed: true, ms: performance.now() - t0, stepStarts };
  }
}

/** The line both scale tests print: runs to completion and versions per second. */
export function gcRunsSummary(
  label: string,
  runs: readonly GcRun[],
  versions: number,
  seconds: number,
): string {
  const killed = runs.filter((r) => r.killed).length;
  const longest = Math.round(Math.max(...runs.map((r) => r.ms)));
  return `${label}: ${runs.length} runs (${killed} killed) to completion over ${versions} versions in ${seconds.toFixed(1)} s = ${Math.round(versions / seconds)} versions/s; longest run ${longest} ms`;
}
