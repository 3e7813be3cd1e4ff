import type { ArcaServer } from './arcaServer.ts';
import type { Registry } from './registry.ts';
import { type Row, type RowInput, row } from './report.ts';
import type { Scale } from './scale.ts';
import type { SharedResults } from './shared.ts';

/** What the host has: each anchor is optional and the bench says how to get a missing one. */
export interface Tools {
  readonly registry: boolean;
  readonly moto: boolean;
  /** `ARCA_BACKEND=aws` starts a server that reports `backend: aws`. */
  readonly awsBackend: boolean;
  readonly cli: boolean;
}

/** A peak RSS reading, in bytes, for the memory case. */
export interface PeakReading {
  readonly key: 'server' | 'registry' | 'cli' | 'registry-gc';
  readonly process: string;
  readonly during: string;
  readonly bytes: number | undefined;
  readonly note?: string;
}

/** Shared state of one bench run: scale, servers, temp dir, collected rows and notes. */
export interface BenchContext {
  readonly repoRoot: string;
  readonly tmp: string;
  readonly scale: Scale;
  readonly tools: Tools;
  readonly arca: ArcaServer;
  /** The registry anchor, running, when installed. */
  readonly registry: Registry | undefined;
  readonly rows: Row[];
  readonly notes: string[];
  readonly peaks: PeakReading[];
  readonly shared: SharedResults;
  add(input: RowInput): void;
  note(text: string): void;
  progress(text: string): void;
  /** Registers cleanup to run at the end, even on failure (last registered runs first). */
  defer(cleanup: () => Promise<void> | void): void;
}

export function createRowSink(rows: Row[]): (input: RowInput) => void {
  return (input) => rows.push(row(input));
}
