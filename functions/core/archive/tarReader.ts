/**
 * A streaming tar reader: fed bytes in chunks of any size, it announces each entry's header and
 * hands over its data as it passes, holding at most one 512-byte block plus one PAX / GNU long-name
 * record in memory. It reads ustar, GNU and PAX archives; it checks header checksums, never trusts a
 * size to allocate, and stops at the first block that is not a valid header.
 */

const BLOCK = 512;
/** PAX and GNU long-name records larger than this are refused: names are never megabytes. */
const MAX_META_BYTES = 1024 * 1024;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'other';

export interface TarEntry {
  readonly path: string;
  readonly type: TarEntryType;
  readonly size: number;
  readonly linkTarget?: string;
}

export interface TarListener {
  entry(entry: TarEntry): void;
  /** Bytes of the current regular file, in order, as they arrive. */
  data(chunk: Buffer): void;
  endEntry(): void;
}

type Meta = 'pax' | 'longName' | 'longLink';

/** True when `block` is a tar header: its checksum holds (the ustar magic alone is not required). */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK || block[0] === 0) return false;
  const stored = readOctal(block.subarray(148, 156));
  if (stored === undefined) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

export class TarReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of data (or of a meta record) still to come for the current entry, then its padding. */
  private remaining = 0;
  private padding = 0;
  private meta: { kind: Meta; chunks: Buffer[] } | undefined;
  private pax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  private inFile = false;
  private state: 'header' | 'body' | 'ended' = 'header';
  /** Why reading stopped early, when the stream is not a well-formed archive. */
  error: string | undefined;

  constructor(private readonly listener: TarListener) {}

  get ended(): boolean {
    return this.state === 'ended';
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.state !== 'ended') {
      if (this.state === 'body') {
        at += this.consumeBody(chunk.subarray(at));
        continue;
      }
      const take = Math.min(BLOCK - this.pendingBytes, chunk.length - at);
      this.pending.push(chunk.subarray(at, at + take));
      this.pendingBytes += take;
      at += take;
      if (this.pendingBytes === BLOCK) {
        const block = Buffer.concat(this.pending, BLOCK);
        this.pending = [];
        this.pendingBytes = 0;
        this.header(block);
      }
    }
  }

  /** The end of the input: anything but a clean end of archive is reported in `error`. */
  end(): void {
    if (this.state === 'ended') return;
    if (this.inFile) this.listener.endEntry();
    if (this.state === 'body' || this.pendingBytes > 0) this.stop('the archive ends inside an entry');
    this.state = 'ended';
  }

  private consumeBody(chunk: Buffer): number {
    if (this.remaining > 0) {
      const take = Math.min(this.remaining, chunk.length);
      const part = chunk.subarray(0, take);
      if (this.meta) this.meta.chunks.push(part);
      else if (this.inFile) this.listener.data(part);
      this.remaining -= take;
      if (this.remaining === 0) this.finishBody();
      return take;
    }
    const skip = Math.min(this.padding, chunk.length);
    this.padding -= skip;
    if (this.padding === 0) this.state = 'header';
    return skip;
  }

  private finishBody(): void {
    if (this.meta) {
      const record = Buffer.concat(this.meta.chunks);
      if (this.meta.kind === 'pax') Object.assign(this.pax, parsePax(record));
      else if (this.meta.kind === 'longName') this.longName = cString(record.toString('utf8'));
      else this.longLink = cString(record.toString('utf8'));
      this.meta = undefined;
    } else if (this.inFile) {
      this.listener.endEntry();
      this.inFile = false;
    }
    if (this.padding === 0) this.state = 'header';
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      this.state = 'ended'; // end-of-archive marker
      return;
    }
    if (!isTarHeader(block)) {
      this.stop('a header block has a bad checksum');
      return;
    }
    const type = String.fromCharCode(block[156]!);
    const size = readSize(block.subarray(124, 136));
    if (size === undefined) {
      this.stop('a header has an unreadable size');
      return;
    }
    const meta: Meta | undefined =
      type === 'x' ? 'pax' : type === 'L' ? 'longName' : type === 'K' ? 'longLink' : undefined;
    if (meta || type === 'g') {
      if (size > MAX_META_BYTES) {
        this.stop(`a ${size}-byte extended header`);
        return;
      }
      // A global PAX header ('g') sets archive-wide defaults: no entry's name comes from it, skip it.
      this.meta = meta ? { kind: meta, chunks: [] } : undefined;
      this.beginBody(size);
      return;
    }
    const entry = this.describe(block, type, size);
    this.listener.entry(entry);
    this.inFile = entry.type === 'file';
    // Only regular files carry data; anything else with a size is skipped, not fed to scanners.
    const dataSize = entry.type === 'file' || entry.type === 'other' ? size : 0;
    if (entry.type === 'file' && dataSize === 0) {
      this.listener.endEntry();
      this.inFile = false;
    }
    this.beginBody(dataSize);
  }

  /** `size` bytes of data follow, padded to a whole block. */
  private beginBody(size: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = size > 0 ? 'body' : 'header';
    if (size === 0 && this.meta) this.finishBody();
  }

  private describe(block: Buffer, type: string, size: number): TarEntry {
    const magic = block.subarray(257, 263).toString('latin1');
    const prefix = magic === 'ustar\0' ? cString(block.subarray(345, 500).toString('utf8')) : '';
    const name = cString(block.subarray(0, 100).toString('utf8'));
    const path = this.pax.path ?? this.longName ?? (prefix ? `${prefix}/${name}` : name);
    const link = this.pax.linkpath ?? this.longLink ?? cString(block.subarray(157, 257).toString('utf8'));
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    const kind = ENTRY_TYPES[type] ?? 'other';
    return {
      path,
      type: kind,
      size: kind === 'file' ? size : 0,
      ...(kind === 'symlink' || kind === 'hardlink' ? { linkTarget: link } : {}),
    };
  }

  private stop(reason: string): void {
    this.error = reason;
    this.state = 'ended';
  }
}

const ENTRY_TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'device',
  '4': 'device',
  '5': 'directory',
  '6': 'fifo',
};

const cString = (text: string): string => {
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
};

function readOctal(field: Buffer): number | undefined {
  const text = cString(field.toString('latin1')).trim();
  if (!/^[0-7]*$/.test(text)) return undefined;
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** Sizes are octal, or base-256 (high bit set) for files of 8 GiB and more. */
function readSize(field: Buffer): number | undefined {
  if ((field[0]! & 0x80) === 0) return readOctal(field);
  let value = field[0]! & 0x7f;
  for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** PAX records: `<length> <key>=<value>\n`, repeated; the length counts bytes, not characters. */
function parsePax(record: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < record.length) {
    const space = record.indexOf(0x20, at);
    const length = space === -1 ? Number.NaN : Number(record.subarray(at, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length <= space - at || at + length > record.length) break;
    const text = record.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = text.indexOf('=');
    if (eq > 0) out[text.slice(0, eq)] = text.slice(eq + 1);
    at += length;
  }
  return out;
}
