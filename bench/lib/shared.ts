import type { VersionRef } from './arcaClient.ts';

/** What one case leaves for a later one (large versions to download, commit→available samples). */
export interface SharedResults {
  /** Milliseconds from commit sent to `available` seen, per file size. */
  readonly commitToAvailable: Map<number, number[]>;
  /** The largest file published in case 2, in Arca and in the registry, for the download case. */
  largest?: { ref: VersionRef; size: number; sha256: string; registryRepo?: string };
}

export const createShared = (): SharedResults => ({ commitToAvailable: new Map() });
