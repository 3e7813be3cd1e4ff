import type { ArchiveSummary, Finding } from '../model.ts';
import type { FoundSbom, Scanner } from '../scanners.ts';
import { entryPathProblem, looksLikeSbom } from './entryRules.ts';

export interface ArchiveLimits {
  /** Scanners run again on every file inside an archive (and inside archives inside it). */
  readonly inner?: readonly Scanner[];
  /**
   * Scanners run on the uploaded file itself only when it is not an archive this scan opens (then
   * they read its files instead, as `inner`): an engine too costly to read the same bytes twice.
   */
  readonly root?: readonly Scanner[];
  /** An archive expanding past this many times its own size (and past `bombFloorBytes`) is a bomb. */
  readonly maxExpansionRatio?: number;
  /** Below this many expanded bytes nothing is a bomb, whatever the ratio (default 1 GiB). */
  readonly bombFloorBytes?: number;
  /** More entries than this, counted over every level, is refused (default 1,000,000). */
  readonly maxEntries?: number;
  /** How much of the scanned file's tail is kept to read a zip's central directory (default 32 MiB). */
  readonly zipTailBytes?: number;
  /** The same for a zip inside an archive (default 8 MiB): held once per level being read. */
  readonly nestedZipTailBytes?: number;
  /** Archives inside archives are opened this many levels down (default 3); deeper ones are scanned whole. */
  readonly maxDepth?: number;
}

/** Files whose verdict may be awaited at once (clamd scans them in parallel on its threads). */
const MAX_IN_FLIGHT = 8;
/** Findings kept per object: one bad archive should not make a megabyte report. */
const MAX_FINDINGS = 20;
const MAX_LISTED = 50;
/** Entry paths in the report are cut past this: a PAX path may be a megabyte, a report may not. */
const MAX_PATH_SHOWN = 1024;

export const shown = (path: string): string =>
  path.length > MAX_PATH_SHOWN ? `${path.slice(0, MAX_PATH_SHOWN)}… (${path.length} characters)` : path;

/**
 * What one scan of one file learns across every level of its archives: the findings, the counts
 * the limits apply to, and why reading stopped. Every level reports here, so a limit holds for the
 * whole tree (a bomb inside a zip inside a tar is measured against the file that was uploaded).
 */
export class ArchiveWalk {
  readonly findings: Finding[] = [];
  private readonly seen = new Set<string>();
  entries = 0;
  expandedBytes = 0;
  /** Bytes out of every inflater at every level: what the bomb limit measures. */
  inflatedBytes = 0;
  /** Bytes of the uploaded file read so far. */
  rootBytes = 0;
  opened = 0;
  readonly sboms: string[] = [];
  readonly unopened: string[] = [];
  /** SBOMs read inside the archive (the first 50), for matching against advisories. */
  readonly foundSboms: FoundSbom[] = [];
  incomplete: string | undefined;
  readonly ratio: number;
  readonly floor: number;
  readonly maxEntries: number;
  readonly maxDepth: number;

  constructor(readonly limits: ArchiveLimits) {
    this.ratio = limits.maxExpansionRatio ?? 100;
    this.floor = limits.bombFloorBytes ?? 2 ** 30;
    this.maxEntries = limits.maxEntries ?? 1_000_000;
    this.maxDepth = limits.maxDepth ?? 3;
  }

  get stopped(): boolean {
    return this.incomplete !== undefined;
  }

  /** Expanded bytes past which `compressed` bytes are a bomb: the ratio, never below the floor. */
  bombLimit(compressed: number): number {
    return Math.max(this.floor, this.ratio * compressed);
  }

  /** Counts an inflated chunk against the whole file's limit; false (and stopped) past it. */
  inflate(bytes: number, levelBytes: number, levelCompressed: number, where: string | undefined): boolean {
    this.inflatedBytes += bytes;
    for (const [out, from] of [
      [levelBytes, levelCompressed],
      [this.inflatedBytes, this.rootBytes],
    ] as const) {
      const limit = this.bombLimit(from);
      if (out > limit) {
        const inside = where === undefined ? '' : ` (inside ${shown(where)})`;
        this.flag(
          'decompression-bomb',
          `inflates past ${limit} bytes from ${from}: over ${this.ratio}× its size${inside}`,
          where,
        );
        this.stop('stopped at the decompression limit');
        return false;
      }
    }
    return true;
  }

  /** `path` names the entry in the report; `name` is what its archive calls it, the rules' input. */
  countEntry(path: string, name = path): void {
    if (this.stopped) return;
    this.entries++;
    if (this.entries > this.maxEntries) {
      this.flag('too-many-entries', `more than ${this.maxEntries} entries`);
      this.stop(`stopped after ${this.maxEntries} entries`);
      return;
    }
    this.checkPath(path, name);
    if (looksLikeSbom(name) && this.sboms.length < MAX_LISTED) this.sboms.push(shown(path));
  }

  /** Path rules alone (a zip's local header names are checked as well as its directory's). */
  checkPath(path: string, name = path): void {
    const problem = entryPathProblem(name);
    if (problem) this.flag('path-traversal', `entry ${JSON.stringify(shown(name))} ${problem}`, path);
  }

  /**
   * Verdicts still coming (an engine answering over the network, as clamd does), oldest first, at
   * most `MAX_IN_FLIGHT`: the next files are read while they come, and they are applied in file
   * order, so the report does not depend on which answer came first.
   */
  private readonly inFlight: Promise<{ apply?: () => void; error?: unknown }>[] = [];

  /** Applies `apply` after every verdict still coming, or now when none is. */
  settle(apply: () => void): void {
    if (this.inFlight.length === 0) apply();
    else this.inFlight.push(Promise.resolve({ apply }));
  }

  /** Queues a verdict still coming; waits for the oldest while too many are. */
  async defer(work: Promise<() => void>): Promise<void> {
    // Observed at once: a failure waits in the queue without being an unhandled rejection.
    this.inFlight.push(
      work.then(
        (apply) => ({ apply }),
        (error: unknown) => ({ error }),
      ),
    );
    while (this.inFlight.length > MAX_IN_FLIGHT) await this.applyOldest();
  }

  /** Every verdict still coming, applied in order; throws the first failure (the scan is retried). */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.applyOldest();
  }

  private async applyOldest(): Promise<void> {
    const { apply, error } = await this.inFlight.shift()!;
    if (error !== undefined) {
      this.inFlight.length = 0;
      throw error;
    }
    apply?.();
  }

  foundSbom(sbom: FoundSbom): void {
    if (this.foundSboms.length < MAX_LISTED) this.foundSboms.push(sbom);
  }

  noteUnopened(path: string): void {
    if (this.unopened.length < MAX_LISTED) this.unopened.push(shown(path));
  }

  flag(rule: string, message: string, path?: string): void {
    const key = `${rule}\0${path ?? ''}`;
    if (this.findings.length >= MAX_FINDINGS || this.seen.has(key)) return;
    this.seen.add(key);
    this.findings.push({
      scanner: 'archive',
      rule,
      message,
      ...(path !== undefined ? { path: shown(path) } : {}),
    });
  }

  /** A finding from a content scanner, run on a file inside an archive. */
  inner(finding: Finding, path: string | undefined, decompressed: boolean): void {
    if (this.findings.length >= MAX_FINDINGS) return;
    const message = decompressed ? `${finding.message} (in the decompressed data)` : finding.message;
    this.findings.push({ ...finding, message, ...(path !== undefined ? { path: shown(path) } : {}) });
  }

  /**
   * An archive could not be read to its end: what was not read was not scanned, so this is a
   * finding (past the findings cap too, so the reason is always in the report), and reading stops.
   */
  unreadable(reason: string, where: string | undefined): void {
    if (this.stopped) return;
    const inside = where === undefined ? '' : ` (${shown(where)})`;
    const message = `the archive could not be read to its end${inside}: ${reason}`;
    this.findings.push({
      scanner: 'archive',
      rule: 'archive-unreadable',
      message,
      ...(where ? { path: shown(where) } : {}),
    });
    this.stop(reason);
  }

  /** Stops reading every level: the file is quarantined by a finding already recorded. */
  stop(reason: string): void {
    this.incomplete ??= reason;
  }

  summary(format: ArchiveSummary['format']): ArchiveSummary {
    return {
      format,
      entries: this.entries,
      expandedBytes: this.expandedBytes,
      sboms: this.sboms,
      ...(this.opened > 0 ? { nested: this.opened } : {}),
      ...(this.unopened.length > 0 ? { unopened: this.unopened } : {}),
      ...(this.incomplete ? { incomplete: this.incomplete } : {}),
    };
  }
}
