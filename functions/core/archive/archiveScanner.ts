import { BUILTIN } from '../builtinEngines.ts';
import { HeadBytes } from '../headBytes.ts';
import type { ArchiveSummary, ContentSummary, Finding } from '../model.ts';
import type { FoundSbom, Scanner, ScanPass } from '../scanners.ts';
import { type ArchiveLimits, ArchiveWalk, shown } from './archiveWalk.ts';
import { linkProblem } from './entryRules.ts';
import { Inflater } from './inflater.ts';
import { isTarHeader, type TarEntry, TarReader } from './tarReader.ts';
import { readZipDirectory } from './zipDirectory.ts';
import { ZipStream } from './zipStream.ts';

export type { ArchiveLimits } from './archiveWalk.ts';

const HEAD_BYTES = 512;
/** A local file header, or the end record that is all an empty zip holds. */
const ZIP_MAGIC = [0x04034b50, 0x06054b50];

/**
 * Reads tar, tar.gz, gzip and zip archives (jar, war, wheel, nupkg, apk are zips) on the scan's
 * single pass, without unpacking to disk, and opens the archives inside them the same way down to
 * `maxDepth` levels: refuses entries that would land outside the extraction directory (`../`,
 * absolute paths, links pointing out), decompression bombs, overlapping zip entries and absurd entry
 * counts, and runs the `inner` scanners on every file inside, naming it by its full path
 * (`lib/inner.zip!/bad.so`). An archive it recognises but cannot read to its end gets a finding that
 * says why: what was not read was not scanned, so it is never reported clean.
 *
 * Memory per level is bounded whatever the input (the first block, the tar reader's block and 1 MiB of
 * metadata, zlib's window and one slice's output, a zip's kept tail), and there are at most
 * `maxDepth + 1` levels being read at once.
 */
export function archiveScanner(limits: ArchiveLimits = {}): Scanner {
  return {
    name: 'archive',
    start: () => new ArchivePass(limits),
    engines: async () => {
      const own = {
        name: 'archive',
        version: BUILTIN,
        database: `tar, gzip, zip; ${limits.maxDepth ?? 3} levels down`,
      };
      const engines = [...(limits.inner ?? []), ...(limits.root ?? [])].map(
        async (s) => (await s.engines?.()) ?? [],
      );
      return [own, ...(await Promise.all(engines)).flat()];
    },
  };
}

class ArchivePass implements ScanPass {
  private readonly walk: ArchiveWalk;
  private readonly root: ArchiveNode;

  constructor(limits: ArchiveLimits) {
    this.walk = new ArchiveWalk(limits);
    this.root = new ArchiveNode(this.walk, 0, undefined, { engines: limits.root ?? [], decompressed: false });
  }

  update(chunk: Buffer): void | Promise<void> {
    this.walk.rootBytes += chunk.length;
    return this.root.update(chunk);
  }

  async finish(): Promise<Finding[]> {
    await this.root.finish();
    await this.walk.drain();
    return this.walk.findings;
  }

  sboms(): readonly FoundSbom[] {
    return this.walk.foundSboms;
  }

  contents(): ContentSummary {
    const format = this.root.format;
    if (format === undefined || format === 'none') return {};
    return { archive: this.walk.summary(format) };
  }
}

type TarEvent = { kind: 'entry'; entry: TarEntry } | { kind: 'data'; chunk: Buffer } | { kind: 'end' };

/**
 * One file being read, at some depth of the tree: the uploaded file itself (depth 0, whose raw bytes
 * the other scanners already read) or a file inside an archive. Its first block decides what it is:
 * an archive it opens (within the depth limit), or a file the `inner` scanners read.
 */
class ArchiveNode {
  format: ArchiveSummary['format'] | 'none' | undefined;
  private readonly head = new HeadBytes(HEAD_BYTES);
  private compressed = 0;
  private inflated = 0;
  private engines: ScanPass[] = [];
  private gunzip: Inflater | undefined;
  private readonly gzipHead = new HeadBytes(HEAD_BYTES);
  private gzipFile: ArchiveNode | undefined;
  private classified = false;
  private tar: TarReader | undefined;
  private tarEvents: TarEvent[] = [];
  private child: ArchiveNode | undefined;
  private zip: ZipStream | undefined;
  private zipTail: Buffer[] = [];
  private zipTailBytes = 0;
  private zipDeflated = false;

  constructor(
    private readonly walk: ArchiveWalk,
    private readonly depth: number,
    /** Where this file is in the tree: undefined for the uploaded file. */
    private readonly path: string | undefined,
    private readonly options: { readonly engines: readonly Scanner[]; readonly decompressed: boolean },
  ) {}

  update(chunk: Buffer): void | Promise<void> {
    if (this.walk.stopped) return;
    this.compressed += chunk.length;
    if (this.format === undefined) {
      if (!this.head.add(chunk)) return;
      return this.begin(this.head.take());
    }
    return this.feed(chunk);
  }

  async finish(): Promise<void> {
    if (this.format === undefined) await this.begin(this.head.take());
    if (this.gunzip) await this.endGzip();
    if (this.tar) await this.endTar();
    if (this.zip) await this.endZip();
    await this.finishEngines();
  }

  private begin(head: Buffer): void | Promise<void> {
    const format = detect(head);
    const opens = format !== 'none' && this.depth <= this.walk.maxDepth;
    if (format !== 'none' && !opens && this.path !== undefined) this.walk.noteUnopened(this.path);
    this.format = opens ? format : 'none';
    if (this.depth > 0 && opens) this.walk.opened++;
    if (this.format === 'gzip') this.gunzip = new Inflater('gzip');
    else if (this.format === 'tar') this.tar = this.tarReader();
    else if (this.format === 'zip') this.zip = this.zipStream();
    else
      this.engines = this.options.engines.map((s) =>
        s.start(this.path === undefined ? {} : { path: this.path }),
      );
    return this.feed(head);
  }

  private async feed(chunk: Buffer): Promise<void> {
    if (this.walk.stopped) return;
    if (this.format === 'tar') return this.writeTar(chunk);
    if (this.zip) {
      this.keepTail(chunk);
      await this.zip.write(chunk);
      if (this.zip.error) this.walk.unreadable(this.zip.error, this.path);
      return;
    }
    if (this.gunzip) {
      await this.gunzip.write(chunk, (c) => this.gunzipped(c));
      if (this.gunzip.error) this.walk.unreadable(`invalid gzip data (${this.gunzip.error})`, this.path);
      return;
    }
    for (const pass of this.engines) {
      const pending = pass.update(chunk);
      if (pending) await pending;
    }
  }

  /** The verdicts of the engines that read this file, applied in file order (see ArchiveWalk.defer). */
  private async finishEngines(): Promise<void> {
    const passes = this.engines;
    this.engines = [];
    if (passes.length === 0) return;
    const { walk, path } = this;
    const { decompressed } = this.options;
    const results = passes.map((pass) => pass.finish());
    const apply = (lists: readonly (readonly Finding[])[]) => {
      // SBOMs are taken now, so their bytes are not held while earlier verdicts come.
      const sboms = passes.flatMap((pass) => pass.sboms?.() ?? []);
      return () => {
        for (const list of lists) for (const finding of list) walk.inner(finding, path, decompressed);
        for (const sbom of sboms) walk.foundSbom(path === undefined ? sbom : { ...sbom, path });
      };
    };
    if (results.every((r) => Array.isArray(r))) walk.settle(apply(results as Finding[][]));
    else await walk.defer(Promise.all(results).then(apply));
  }

  // gzip: a tar inside (tar.gz), or one compressed file read as a file of its own.

  private gunzipped(chunk: Buffer): void | Promise<void> {
    if (this.walk.stopped) return;
    this.inflated += chunk.length;
    if (!this.walk.inflate(chunk.length, this.inflated, this.compressed, this.path)) {
      this.gunzip?.destroy();
      return;
    }
    if (this.tar) return this.writeTar(chunk);
    if (this.gzipFile) return this.gzipFileData(chunk);
    if (this.gzipHead.add(chunk)) return this.classify();
  }

  private classify(): void | Promise<void> {
    const head = this.gzipHead.take();
    this.classified = true;
    if (isTarHeader(head)) {
      this.format = 'tar+gzip';
      this.tar = this.tarReader();
      return this.writeTar(head);
    }
    this.walk.countEntry(this.path ?? '', '');
    const options = { engines: this.walk.limits.inner ?? [], decompressed: true };
    this.gzipFile = new ArchiveNode(this.walk, this.depth + 1, this.path, options);
    return this.gzipFileData(head);
  }

  private gzipFileData(chunk: Buffer): void | Promise<void> {
    this.walk.expandedBytes += chunk.length;
    return this.gzipFile!.update(chunk);
  }

  private async endGzip(): Promise<void> {
    const gunzip = this.gunzip!;
    this.gunzip = undefined;
    await gunzip.end((c) => this.gunzipped(c));
    if (gunzip.error) this.walk.unreadable(`invalid gzip data (${gunzip.error})`, this.path);
    if (!this.classified && !this.walk.stopped) await this.classify();
    await this.gzipFile?.finish();
  }

  // tar: the reader is synchronous; its events are queued and handled in order, awaited.

  private tarReader(): TarReader {
    return new TarReader({
      entry: (entry) => this.tarEvents.push({ kind: 'entry', entry }),
      data: (chunk) => this.tarEvents.push({ kind: 'data', chunk }),
      endEntry: () => this.tarEvents.push({ kind: 'end' }),
    });
  }

  private async writeTar(chunk: Buffer): Promise<void> {
    this.tar!.write(chunk);
    await this.drainTar();
  }

  private async drainTar(): Promise<void> {
    const events = this.tarEvents;
    this.tarEvents = [];
    for (const event of events) {
      if (this.walk.stopped) return;
      if (event.kind === 'entry') this.tarEntry(event.entry);
      else if (event.kind === 'data') {
        this.walk.expandedBytes += event.chunk.length;
        await this.child?.update(event.chunk);
      } else await this.endChild();
    }
  }

  private tarEntry(entry: TarEntry): void {
    const path = this.inside(entry.path);
    this.walk.countEntry(path, entry.path);
    const link =
      entry.type === 'symlink' || entry.type === 'hardlink'
        ? linkProblem(entry.path, entry.linkTarget ?? '', entry.type === 'hardlink')
        : undefined;
    if (link) {
      const message = `${shown(entry.path)} links to ${shown(entry.linkTarget ?? '')}: ${link}`;
      this.walk.flag('link-escape', message, path);
    }
    if (entry.type === 'file') this.startChild(path);
  }

  private async endTar(): Promise<void> {
    const tar = this.tar!;
    this.tar = undefined;
    tar.end();
    await this.drainTar();
    if (tar.error) this.walk.unreadable(tar.error, this.path);
    await this.endChild();
  }

  // zip: entries streamed from their local headers; the listing read from the directory at the end.

  private zipStream(): ZipStream {
    return new ZipStream({
      entry: (entry) => {
        const path = this.inside(entry.path);
        this.zipDeflated = entry.deflated;
        this.walk.checkPath(path, entry.path);
        if (!entry.directory) this.startChild(path);
      },
      data: (chunk) => {
        if (this.zipDeflated) {
          this.inflated += chunk.length;
          if (!this.walk.inflate(chunk.length, this.inflated, this.compressed, this.path)) return;
        }
        return this.child?.update(chunk);
      },
      endEntry: () => this.endChild(),
    });
  }

  private keepTail(chunk: Buffer): void {
    const limit =
      this.depth === 0
        ? (this.walk.limits.zipTailBytes ?? 32 * 2 ** 20)
        : (this.walk.limits.nestedZipTailBytes ?? 8 * 2 ** 20);
    this.zipTail.push(Buffer.from(chunk));
    this.zipTailBytes += chunk.length;
    while (this.zipTail.length > 1 && this.zipTailBytes - this.zipTail[0]!.length >= limit) {
      this.zipTailBytes -= this.zipTail.shift()!.length;
    }
  }

  private async endZip(): Promise<void> {
    const zip = this.zip!;
    this.zip = undefined;
    await zip.end();
    await this.endChild();
    if (this.walk.stopped) return;
    if (zip.error) return this.walk.unreadable(zip.error, this.path);
    const tail = Buffer.concat(this.zipTail);
    this.zipTail = [];
    let missed: string | undefined;
    const listing = readZipDirectory(tail, this.compressed, (entry) => {
      this.walk.countEntry(this.inside(entry.path), entry.path);
      if (missed === undefined && !sortedHas(zip.offsets, entry.offset)) missed = entry.path;
    });
    this.walk.expandedBytes += listing.declaredBytes;
    if (listing.error) return this.walk.unreadable(listing.error, this.path);
    if (listing.declaredBytes > this.walk.bombLimit(this.compressed)) {
      const from = `declares ${listing.declaredBytes} bytes from ${this.compressed}`;
      this.walk.flag('decompression-bomb', `${from}: over ${this.walk.ratio}× its size`, this.path);
    }
    const { overlap } = listing;
    if (overlap) {
      const message = `${shown(overlap.path)} overlaps ${shown(overlap.overlaps)}: a zip bomb's trick`;
      this.walk.flag('overlapping-entries', message, this.inside(overlap.path));
    } else if (missed !== undefined) {
      // An entry extractors would write whose data the walk never reached: it was not scanned.
      this.walk.unreadable(`${JSON.stringify(shown(missed))} is not where the directory says`, this.path);
    }
  }

  // Children: one file inside this archive at a time.

  private startChild(path: string): void {
    const options = { engines: this.walk.limits.inner ?? [], decompressed: false };
    this.child = new ArchiveNode(this.walk, this.depth + 1, path, options);
  }

  private async endChild(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && !this.walk.stopped) await child.finish();
  }

  private inside(entryPath: string): string {
    return this.path === undefined ? entryPath : `${this.path}!/${entryPath}`;
  }
}

function detect(head: Buffer): ArchiveSummary['format'] | 'none' {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8) return 'gzip';
  if (head.length >= 4 && ZIP_MAGIC.includes(head.readUInt32LE(0))) return 'zip';
  if (isTarHeader(head)) return 'tar';
  return 'none';
}

function sortedHas(sorted: readonly number[], value: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (sorted[mid] === value) return true;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}
