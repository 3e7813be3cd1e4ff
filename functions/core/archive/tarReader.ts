/**
 * A streaming tar reader: fed bytes in chunks of any size, it announces each entry's header and
 * hands over its data as it passes. It reads ustar, GNU and PAX archives (PAX `path`, `linkpath` and
 * `size` records, global ones included; GNU long names and base-256 sizes), checks header checksums,
 * never trusts a size to allocate, and says in `error` why it stopped when the input is not a
 * well-formed archive read to its end.
 *
 * Bounded by construction, whatever the input:
 * - memory: one 512-byte header block plus at most `MAX_META_BYTES` of metadata (the PAX and GNU
 *   records pending for the next entry and the global PAX records, together); entry data is handed
 *   over, never kept. `heldBytes` reports it.
 * - work: every turn of `write`'s loop consumes at least one input byte; a header costs one pass
 *   over its block and a metadata record one parse, so the work is linear in the input's size.
 */

const BLOCK = 512;
/** PAX and GNU long-name records held at once past this many bytes are refused: names are never megabytes. */
export const MAX_META_BYTES = 1024 * 1024;

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

type Meta = 'pax' | 'globalPax' | 'longName' | 'longLink';

const META_TYPES: Record<string, Meta> = { x: 'pax', X: 'pax', g: 'globalPax', L: 'longName', K: 'longLink' };

/** True when `block` is a tar header: its checksum holds (the ustar magic alone is not required). */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK || block[0] === 0) return false;
  const stored = readOctal(block.subarray(148, 156));
  if (stored === undefined) return false;
  // Old tars summed signed bytes; GNU tar and Python accept either sum, so this does too.
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

export class TarReader {
  private readonly block = Buffer.alloc(BLOCK);
  private blockBytes = 0;
  /**
   * 'header': collecting a header block. 'body': `remaining` bytes of an entry's data or a metadata
   * record, then `padding` bytes to the block boundary; entered only when there is at least one.
   * 'trailer': past an end-of-archive block, where only more zero blocks or another archive's
   * headers (what `tar --ignore-zeros` reads) may follow.
   */
  private state: 'header' | 'body' | 'trailer' | 'ended' = 'header';
  private remaining = 0;
  private padding = 0;
  private meta: { kind: Meta; chunks: Buffer[] } | undefined;
  private pax: Record<string, string> = {};
  private globalPax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  /** Metadata bytes held: records pending for the next entry, the global ones, the one being read. */
  private metaBytes = 0;
  private globalMetaBytes = 0;
  /** A PAX or GNU record was read for an entry whose header has not come yet. */
  private awaitingEntry = false;
  private current: TarEntry | undefined;
  private inFile = false;
  /** Why reading stopped before the end of a well-formed archive. */
  error: string | undefined;

  constructor(private readonly listener: TarListener) {}

  /** Bytes the reader holds between calls: never more than `BLOCK + MAX_META_BYTES`. */
  get heldBytes(): number {
    return this.blockBytes + this.metaBytes;
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.state !== 'ended') {
      if (this.state === 'body') {
        at += this.consumeBody(chunk.subarray(at));
        continue;
      }
      const take = Math.min(BLOCK - this.blockBytes, chunk.length - at);
      chunk.copy(this.block, this.blockBytes, at, at + take);
      this.blockBytes += take;
      at += take;
      if (this.blockBytes === BLOCK) {
        this.blockBytes = 0;
        if (this.state === 'trailer') this.trailerBlock(this.block);
        else this.header(this.block);
      }
    }
  }

  /**
   * The end of the input. A tar may end after its last entry with two zero blocks, one, or none
   * (all tools read those); anything cut short inside an entry or a header is reported in `error`.
   */
  end(): void {
    if (this.state === 'ended') return;
    const partial = this.block.subarray(0, this.blockBytes);
    if (this.state === 'body' && this.remaining > 0) {
      const entry = this.meta ? 'an extended header' : `the data of ${quote(this.current?.path ?? '')}`;
      this.stop(`the archive ends ${this.remaining} bytes short of the end of ${entry}`);
    } else if (this.awaitingEntry) {
      this.stop('the archive ends after an extended header, before its entry');
    } else if (this.state === 'header' && partial.some((b) => b !== 0)) {
      this.stop('the archive ends inside a header block');
    }
    if (this.inFile) this.listener.endEntry();
    this.inFile = false;
    this.state = 'ended';
  }

  /** Consumes data, then padding; in 'body' there is always at least one byte of either to take. */
  private consumeBody(chunk: Buffer): number {
    const data = Math.min(this.remaining, chunk.length);
    if (data > 0) {
      const part = chunk.subarray(0, data);
      if (this.meta) this.meta.chunks.push(Buffer.from(part));
      else if (this.inFile) this.listener.data(part);
      this.remaining -= data;
      if (this.remaining === 0) this.finishData();
    }
    const skip = Math.min(this.padding, chunk.length - data);
    this.padding -= skip;
    if (this.state === 'body' && this.remaining === 0 && this.padding === 0) this.state = 'header';
    return data + skip;
  }

  private finishData(): void {
    const meta = this.meta;
    this.meta = undefined;
    if (meta) this.readMeta(meta.kind, Buffer.concat(meta.chunks));
    else if (this.inFile) {
      this.inFile = false;
      this.listener.endEntry();
    }
  }

  private readMeta(kind: Meta, record: Buffer): void {
    if (kind === 'globalPax') {
      Object.assign(this.globalPax, parsePax(record));
      this.globalMetaBytes += record.length;
    } else if (kind === 'pax') Object.assign(this.pax, parsePax(record));
    else if (kind === 'longName') this.longName = cString(record.toString('utf8'));
    else this.longLink = cString(record.toString('utf8'));
  }

  private trailerBlock(block: Buffer): void {
    if (block.every((b) => b === 0)) return;
    // Another archive appended after the end marker: `tar --ignore-zeros` extracts it, so list it.
    if (isTarHeader(block)) this.header(block);
    else this.state = 'ended'; // trailing bytes no tool extracts
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      if (this.awaitingEntry) this.stop('an extended header is followed by the end of the archive');
      else this.state = 'trailer';
      return;
    }
    if (!isTarHeader(block)) {
      this.stop('a header block has a bad checksum');
      return;
    }
    this.state = 'header';
    const type = String.fromCharCode(block[156]!);
    const headerSize = readSize(block.subarray(124, 136));
    if (headerSize === undefined) {
      this.stop('a header has an unreadable size');
      return;
    }
    const meta = META_TYPES[type];
    if (meta) {
      this.startMeta(meta, headerSize);
      return;
    }
    const paxSize = this.pax.size || this.globalPax.size;
    const size = paxSize ? parseDecimal(paxSize) : headerSize;
    if (size === undefined) {
      this.stop('a PAX size record is unreadable');
      return;
    }
    const entry = this.describe(block, type, size);
    this.listener.entry(entry);
    this.current = entry;
    // Only regular files carry data; anything else with a size is skipped, not fed to scanners.
    const dataSize = entry.type === 'file' || entry.type === 'other' ? size : 0;
    this.inFile = entry.type === 'file' && dataSize > 0;
    if (entry.type === 'file' && dataSize === 0) this.listener.endEntry();
    this.beginBody(dataSize);
  }

  private startMeta(kind: Meta, size: number): void {
    if (this.metaBytes + size > MAX_META_BYTES) {
      this.stop(`extended headers of more than ${MAX_META_BYTES} bytes`);
      return;
    }
    this.metaBytes += size;
    if (kind !== 'globalPax') this.awaitingEntry = true;
    this.meta = { kind, chunks: [] };
    this.beginBody(size);
    if (size === 0) this.finishData();
  }

  /** `size` bytes of data follow, padded to a whole block. */
  private beginBody(size: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size > 0) this.state = 'body';
  }

  private describe(block: Buffer, type: string, size: number): TarEntry {
    const pax = { ...this.globalPax, ...this.pax };
    const magic = block.subarray(257, 263).toString('latin1');
    const prefix = magic === 'ustar\0' ? cString(block.subarray(345, 500).toString('utf8')) : '';
    const name = cString(block.subarray(0, 100).toString('utf8'));
    // GNU tar names a PAX sparse file by `GNU.sparse.name`, over `path`: so must the listing.
    const path = pax['GNU.sparse.name'] || pax.path || this.longName || (prefix ? `${prefix}/${name}` : name);
    const link = pax.linkpath || this.longLink || cString(block.subarray(157, 257).toString('utf8'));
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    this.metaBytes = this.globalMetaBytes;
    this.awaitingEntry = false;
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

/** A path for a message: quoted, and cut short when it is longer than a message should be. */
const quote = (path: string): string => JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path);

function readOctal(field: Buffer): number | undefined {
  const text = cString(field.toString('latin1')).trim();
  if (!/^[0-7]*$/.test(text)) return undefined;
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** Sizes are octal, or base-256 (high bit set) for files of 8 GiB and more; negative ones are refused. */
function readSize(field: Buffer): number | undefined {
  if ((field[0]! & 0x80) === 0) return readOctal(field);
  if ((field[0]! & 0x40) !== 0) return undefined;
  let value = field[0]! & 0x3f;
  for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A PAX size: decimal digits only, and small enough to count exactly. */
function parseDecimal(text: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(text)) return undefined;
  const value = Number(text);
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
