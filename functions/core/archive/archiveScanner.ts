import { createGunzip, type Gunzip } from 'node:zlib';
import { HeadBytes } from '../headBytes.ts';
import type { ArchiveSummary, ContentSummary, Finding } from '../model.ts';
import type { ContentPass, ContentScanner, Scanner, ScanPass } from '../scanners.ts';
import { entryPathProblem, linkProblem, looksLikeSbom } from './entryRules.ts';
import { isTarHeader, type TarEntry, TarReader } from './tarReader.ts';
import { readZipDirectory } from './zipDirectory.ts';

export interface ArchiveLimits {
  /** Content scanners run again on the files inside compressed archives. */
  readonly inner?: readonly ContentScanner[];
  /** An archive expanding past this many times its own size (and past `bombFloorBytes`) is a bomb. */
  readonly maxExpansionRatio?: number;
  /** Below this many expanded bytes nothing is a bomb, whatever the ratio (default 1 GiB). */
  readonly bombFloorBytes?: number;
  /** More entries than this is refused (default 1,000,000). */
  readonly maxEntries?: number;
  /** How much of a zip's tail is kept to read its central directory (default 32 MiB). */
  readonly zipTailBytes?: number;
}

/** The rule of the finding an archive gets when the scan could not read it to its end. */
const UNREADABLE_RULE = 'archive-unreadable';

const MAX_SBOMS_LISTED = 50;
/** Findings kept per object: one bad archive should not make a megabyte report. */
const MAX_FINDINGS = 20;
const HEAD_BYTES = 512;
/** Entry paths in the report are cut past this: a PAX path may be a megabyte, a report may not. */
const MAX_PATH_SHOWN = 1024;
/** A local file header, or the end record that is all an empty zip holds. */
const ZIP_MAGIC = [0x04034b50, 0x06054b50];

/**
 * Lists tar, tar.gz, gzip and zip archives on the scan's single pass, without unpacking to disk:
 * refuses entries that would land outside the extraction directory (`../`, absolute paths, links
 * pointing out), decompression bombs, overlapping zip entries and absurd entry counts, and runs the
 * content scanners on the files inside compressed archives. An archive it recognises but cannot
 * read to its end (corrupt, truncated, over a limit) gets a finding that says why: what was not
 * read was not scanned, so it is never reported clean. Anything else passes through untouched.
 *
 * Memory per pass is bounded whatever the input: the first chunk (to recognise the format), the tar
 * reader's one block and 1 MiB of metadata, zlib's window and one inflated chunk, and for a zip the
 * kept tail (`zipTailBytes` plus one chunk).
 */
export function archiveScanner(limits: ArchiveLimits = {}): Scanner {
  return { name: 'archive', start: () => new ArchivePass(limits) };
}

class ArchivePass implements ScanPass {
  private readonly head = new HeadBytes(HEAD_BYTES);
  private format: ArchiveSummary['format'] | 'none' | undefined;
  private compressedBytes = 0;
  private expandedBytes = 0;
  private entries = 0;
  private readonly sboms: string[] = [];
  private readonly findings: Finding[] = [];
  private incomplete: string | undefined;
  private tar: TarReader | undefined;
  private gunzip: Gunzip | undefined;
  private readonly inflatedHead = new HeadBytes(HEAD_BYTES);
  private inflatedBytes = 0;
  /** Whether the inflated bytes have been told apart (tar inside, or one compressed file). */
  private classified = false;
  private zipTail: Buffer[] = [];
  private zipTailBytes = 0;
  private inner: ContentPass[] = [];
  private innerPath: string | undefined;
  private readonly ratio: number;
  private readonly floor: number;
  private readonly maxEntries: number;
  private readonly tailLimit: number;

  constructor(private readonly limits: ArchiveLimits) {
    this.ratio = limits.maxExpansionRatio ?? 100;
    this.floor = limits.bombFloorBytes ?? 2 ** 30;
    this.maxEntries = limits.maxEntries ?? 1_000_000;
    this.tailLimit = limits.zipTailBytes ?? 32 * 2 ** 20;
  }

  update(chunk: Buffer): void | Promise<void> {
    this.compressedBytes += chunk.length;
    if (this.format === undefined) {
      if (!this.head.add(chunk)) return;
      const head = this.head.take();
      this.detect(head);
      return this.feed(head);
    }
    return this.feed(chunk);
  }

  async finish(): Promise<Finding[]> {
    if (this.format === undefined) {
      const head = this.head.take();
      this.detect(head);
      await this.feed(head);
    }
    if (this.gunzip) await this.endInflate();
    if (this.format === 'gzip' && !this.classified && !this.incomplete) this.classifyInflated();
    this.endTar();
    if (this.format === 'gzip') this.finishInner();
    if (this.format === 'zip') this.listZip();
    return this.findings;
  }

  contents(): ContentSummary {
    if (this.format === undefined || this.format === 'none') return {};
    return {
      archive: {
        format: this.format,
        entries: this.entries,
        expandedBytes: this.expandedBytes,
        sboms: this.sboms,
        ...(this.incomplete ? { incomplete: this.incomplete } : {}),
      },
    };
  }

  private detect(head: Buffer): void {
    if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8) {
      this.format = 'gzip'; // becomes tar+gzip if the inflated bytes start with a tar header
      this.gunzip = createGunzip();
      this.gunzip.on('data', (inflated: Buffer) => this.inflated(inflated));
      // Trailing bytes other than zeros fail too: zlib reads them as a next member, and the data
      // inflated with them in the same chunk is dropped, so nothing after them can be vouched for.
      this.gunzip.on('error', (error) => this.unreadable(`invalid gzip data (${error.message})`));
    } else if (head.length >= 4 && ZIP_MAGIC.includes(head.readUInt32LE(0))) {
      this.format = 'zip';
    } else if (isTarHeader(head)) {
      this.format = 'tar';
      this.tar = this.tarReader(false);
    } else {
      this.format = 'none';
    }
  }

  private feed(chunk: Buffer): void | Promise<void> {
    if (this.incomplete) return;
    if (this.format === 'tar') this.tar!.write(chunk);
    else if (this.format === 'zip') this.keepTail(chunk);
    else if (this.gunzip) return this.inflate(chunk);
  }

  private inflate(chunk: Buffer): Promise<void> {
    const gunzip = this.gunzip!;
    return new Promise((resolve) => {
      // A stream destroyed on a bomb or an error never calls back: its 'close' settles the wait.
      const settle = () => {
        gunzip.off('close', settle);
        resolve();
      };
      gunzip.once('close', settle);
      gunzip.write(chunk, settle);
    });
  }

  private endInflate(): Promise<void> {
    const gunzip = this.gunzip!;
    this.gunzip = undefined;
    if (gunzip.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      gunzip.once('close', resolve);
      gunzip.once('end', resolve);
      gunzip.end();
    });
  }

  private inflated(chunk: Buffer): void {
    if (this.incomplete) return;
    this.inflatedBytes += chunk.length;
    const limit = this.bombLimit();
    if (this.inflatedBytes > limit) {
      this.flag(
        'decompression-bomb',
        `inflates past ${limit} bytes from ${this.compressedBytes}: over ${this.ratio}× its size`,
      );
      this.stop('stopped at the decompression limit');
      return;
    }
    if (this.tar) this.tar.write(chunk);
    else if (this.classified) this.inflatedFile(chunk);
    else this.collectInflatedHead(chunk);
  }

  private collectInflatedHead(chunk: Buffer): void {
    if (this.inflatedHead.add(chunk)) this.classifyInflated();
  }

  /** The first inflated bytes decide: a tar inside, or one compressed file. */
  private classifyInflated(): void {
    const head = this.inflatedHead.take();
    this.classified = true;
    if (isTarHeader(head)) {
      this.format = 'tar+gzip';
      this.tar = this.tarReader(true);
      this.tar.write(head);
      return;
    }
    this.entries = 1;
    this.startInner(undefined);
    this.inflatedFile(head);
  }

  private inflatedFile(chunk: Buffer): void {
    this.expandedBytes += chunk.length;
    this.scanInner(chunk);
  }

  private tarReader(compressed: boolean): TarReader {
    return new TarReader({
      entry: (entry) => this.tarEntry(entry, compressed),
      data: (chunk) => {
        this.expandedBytes += chunk.length;
        this.scanInner(chunk);
      },
      endEntry: () => this.finishInner(),
    });
  }

  private tarEntry(entry: TarEntry, compressed: boolean): void {
    this.countEntry(entry.path);
    const link =
      entry.type === 'symlink' || entry.type === 'hardlink'
        ? linkProblem(entry.path, entry.linkTarget ?? '', entry.type === 'hardlink')
        : undefined;
    if (link) {
      const message = `${shown(entry.path)} links to ${shown(entry.linkTarget ?? '')}: ${link}`;
      this.flag('link-escape', message, entry.path);
    }
    // Uncompressed tars were already scanned byte for byte; compressed files are scanned inflated.
    if (compressed && entry.type === 'file') this.startInner(entry.path);
  }

  private endTar(): void {
    if (!this.tar) return;
    this.tar.end();
    if (this.tar.error) this.unreadable(this.tar.error);
    this.finishInner();
  }

  private countEntry(path: string): void {
    if (this.incomplete) return;
    this.entries++;
    if (this.entries > this.maxEntries) {
      this.flag('too-many-entries', `more than ${this.maxEntries} entries`);
      this.stop(`stopped after ${this.maxEntries} entries`);
      return;
    }
    const problem = entryPathProblem(path);
    if (problem) this.flag('path-traversal', `entry ${JSON.stringify(shown(path))} ${problem}`, path);
    if (looksLikeSbom(path) && this.sboms.length < MAX_SBOMS_LISTED) this.sboms.push(shown(path));
  }

  private startInner(path: string | undefined): void {
    this.innerPath = path;
    this.inner = (this.limits.inner ?? []).map((s) => s.start());
  }

  private scanInner(chunk: Buffer): void {
    for (const pass of this.inner) pass.update(chunk);
  }

  private finishInner(): void {
    for (const pass of this.inner) {
      for (const f of pass.finish()) {
        if (this.findings.length >= MAX_FINDINGS) break;
        // Inside a tar the entry's path says where; in a lone gzip stream the message has to.
        this.findings.push(
          this.innerPath
            ? { ...f, path: shown(this.innerPath) }
            : { ...f, message: `${f.message} (in the decompressed data)` },
        );
      }
    }
    this.inner = [];
  }

  private keepTail(chunk: Buffer): void {
    this.zipTail.push(Buffer.from(chunk));
    this.zipTailBytes += chunk.length;
    while (this.zipTail.length > 1 && this.zipTailBytes - this.zipTail[0]!.length >= this.tailLimit) {
      this.zipTailBytes -= this.zipTail.shift()!.length;
    }
  }

  private listZip(): void {
    const tail = Buffer.concat(this.zipTail);
    this.zipTail = [];
    const listing = readZipDirectory(tail, this.compressedBytes, (entry) => this.countEntry(entry.path));
    this.expandedBytes = listing.declaredBytes;
    if (listing.error) this.unreadable(listing.error);
    if (listing.declaredBytes > this.bombLimit()) {
      const from = `declares ${listing.declaredBytes} bytes from ${this.compressedBytes}`;
      this.flag('decompression-bomb', `${from}: over ${this.ratio}× its size`);
    }
    const { overlap } = listing;
    if (overlap) {
      const message = `${shown(overlap.path)} overlaps ${shown(overlap.overlaps)}: a zip bomb's trick`;
      this.flag('overlapping-entries', message, overlap.path);
    }
  }

  /** Expanded bytes past which an archive is a bomb: the ratio to its size, never below the floor. */
  private bombLimit(): number {
    return Math.max(this.floor, this.ratio * this.compressedBytes);
  }

  private flag(rule: string, message: string, path?: string): void {
    if (this.findings.length >= MAX_FINDINGS) return;
    this.findings.push({
      scanner: 'archive',
      rule,
      message,
      ...(path !== undefined ? { path: shown(path) } : {}),
    });
  }

  /**
   * The archive cannot be read to its end: what was not read was not scanned, so this is a finding
   * (past the findings cap too, so the reason is always in the report), and the listing says why.
   */
  private unreadable(reason: string): void {
    if (this.incomplete) return;
    const message = `the archive could not be read to its end: ${reason}`;
    this.findings.push({ scanner: 'archive', rule: UNREADABLE_RULE, message });
    this.stop(reason);
  }

  /** Stops reading at a limit whose own finding has been recorded. */
  private stop(reason: string): void {
    this.incomplete ??= reason;
    this.gunzip?.destroy();
  }
}

const shown = (path: string): string =>
  path.length > MAX_PATH_SHOWN ? `${path.slice(0, MAX_PATH_SHOWN)}… (${path.length} characters)` : path;
