import { Inflater } from './inflater.ts';
import { applyZip64Extra } from './zip64Extra.ts';

/**
 * Reads a zip front to back as its bytes stream past, entry by entry from the local headers, and
 * hands each file's data over inflated (stored and deflated entries). The central directory at the
 * end is not read here: `zipDirectory.ts` lists the archive from the kept tail, and the scan checks
 * that every entry the directory names started where this walk saw a local header, so no entry an
 * extractor would write escapes the walk.
 *
 * Fails closed (`error`) on anything it cannot read to the end of every entry's data: another
 * compression method, encryption, a stored entry whose size only follows its data, or bytes that are
 * neither an entry nor the directory where an entry should start.
 */

export interface ZipStreamEntry {
  readonly path: string;
  readonly offset: number;
  readonly directory: boolean;
  /** Its data is deflated (else stored): what it inflates to counts against the bomb limit. */
  readonly deflated: boolean;
}

/** What the reader tells its owner; every call is awaited before the reader reads on. */
export interface ZipStreamListener {
  entry(entry: ZipStreamEntry): Promise<void> | void;
  data(chunk: Buffer): Promise<void> | void;
  endEntry(): Promise<void> | void;
}

const LOCAL = 0x04034b50;
const DIRECTORY_STARTS = [0x02014b50, 0x06054b50, 0x06064b50];
const DESCRIPTOR = 0x08074b50;

type State =
  | { readonly kind: 'signature' }
  | { readonly kind: 'header' }
  | { readonly kind: 'stored'; remaining: number; readonly descriptor: boolean; readonly zip64: boolean }
  | {
      readonly kind: 'deflated';
      readonly inflater: Inflater;
      remaining: number | undefined;
      readonly zip64: boolean;
    }
  | { readonly kind: 'descriptor'; readonly zip64: boolean }
  | { readonly kind: 'done' };

export class ZipStream {
  private queue: Buffer[] = [];
  private queued = 0;
  /** Offset in the file of the first queued byte. */
  private position = 0;
  private state: State = { kind: 'signature' };
  /** Offsets of the local headers walked, ascending. */
  readonly offsets: number[] = [];
  error: string | undefined;

  constructor(private readonly listener: ZipStreamListener) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.state.kind === 'done') return;
    this.queue.push(chunk);
    this.queued += chunk.length;
    while (await this.step()) {}
  }

  /** The end of the file: an entry cut short is an error; so is a zip that never reached its directory. */
  async end(): Promise<void> {
    const state = this.state;
    if (state.kind === 'done') return;
    if (state.kind === 'deflated') state.inflater.destroy();
    if (state.kind === 'signature' && this.queued === 0)
      this.fail('the zip ends before its central directory');
    else this.fail('the zip ends inside an entry');
  }

  /** One step of the walk; false when it needs more bytes. */
  private async step(): Promise<boolean> {
    const state = this.state;
    switch (state.kind) {
      case 'signature': {
        if (this.queued < 4) return false;
        const signature = this.peek(4).readUInt32LE(0);
        if (signature === LOCAL) this.state = { kind: 'header' };
        else if (DIRECTORY_STARTS.includes(signature)) this.state = { kind: 'done' };
        else this.fail(`bytes at offset ${this.position} are neither an entry nor the central directory`);
        return true;
      }
      case 'header':
        return this.header();
      case 'stored': {
        if (state.remaining > 0) {
          if (this.queued === 0) return false;
          const part = this.takeUpTo(state.remaining);
          state.remaining -= part.length;
          await this.listener.data(part);
          return true;
        }
        await this.listener.endEntry();
        this.state = state.descriptor ? { kind: 'descriptor', zip64: state.zip64 } : { kind: 'signature' };
        return true;
      }
      case 'deflated':
        return this.deflated(state);
      case 'descriptor':
        return this.descriptor(state.zip64);
      default:
        return false;
    }
  }

  private async header(): Promise<boolean> {
    if (this.queued < 30) return false;
    const fixed = this.peek(30);
    const nameLength = fixed.readUInt16LE(26);
    const extraLength = fixed.readUInt16LE(28);
    if (this.queued < 30 + nameLength + extraLength) return false;
    const offset = this.position;
    const header = this.take(30 + nameLength + extraLength);
    const flags = header.readUInt16LE(6);
    const method = header.readUInt16LE(8);
    const path = header.subarray(30, 30 + nameLength).toString('utf8');
    // The uncompressed size is read (the record lists it first) only to reach the compressed one.
    const sizes = [header.readUInt32LE(22), header.readUInt32LE(18)];
    const extended = applyZip64Extra(header.subarray(30 + nameLength), sizes);
    const compressed = (extended ?? sizes)[1]!;
    const zip64 = extended !== undefined;
    const descriptor = (flags & 8) !== 0;
    this.offsets.push(offset);
    if ((flags & 1) !== 0) return this.fail(`${JSON.stringify(path)} is encrypted`);
    if (method !== 0 && method !== 8) {
      return this.fail(
        `${JSON.stringify(path)} uses compression method ${method}, which the scan cannot read`,
      );
    }
    if (method === 0 && descriptor && compressed === 0 && !path.endsWith('/')) {
      return this.fail(`${JSON.stringify(path)} is stored with its size only after its data`);
    }
    await this.listener.entry({ path, offset, directory: path.endsWith('/'), deflated: method === 8 });
    if (method === 0) {
      this.state = { kind: 'stored', remaining: compressed, descriptor, zip64 };
    } else {
      const remaining = descriptor ? undefined : compressed;
      this.state = { kind: 'deflated', inflater: new Inflater('raw'), remaining, zip64 };
    }
    return true;
  }

  private async deflated(state: Extract<State, { kind: 'deflated' }>): Promise<boolean> {
    const { inflater } = state;
    if (!inflater.ended && !inflater.error && state.remaining !== 0) {
      if (this.queued === 0) return false;
      const part = this.peekUpTo(state.remaining ?? Number.MAX_SAFE_INTEGER);
      const taken = await inflater.write(part, (c) => this.listener.data(c));
      this.take(taken);
      if (state.remaining !== undefined) state.remaining -= taken;
      if (inflater.error) return this.fail(`an entry's deflate data is corrupt (${inflater.error})`);
      // zlib takes all it is given until its stream ends: taking nothing otherwise would loop forever.
      if (taken === 0 && !inflater.ended) return this.fail("an entry's deflate data could not be read");
      return true;
    }
    if (inflater.error) return this.fail(`an entry's deflate data is corrupt (${inflater.error})`);
    await inflater.end((c) => this.listener.data(c));
    if (!inflater.ended) return this.fail("an entry's deflate data ends before its stream does");
    if (state.remaining !== undefined && state.remaining > 0) {
      return this.fail("an entry's deflate stream ends before its declared size");
    }
    await this.listener.endEntry();
    this.state =
      state.remaining === undefined ? { kind: 'descriptor', zip64: state.zip64 } : { kind: 'signature' };
    return true;
  }

  /** A data descriptor: an optional signature, the CRC, then both sizes (8 bytes each for ZIP64). */
  private descriptor(zip64: boolean): boolean {
    if (this.queued < 4) return false;
    const signed = this.peek(4).readUInt32LE(0) === DESCRIPTOR;
    const length = (signed ? 4 : 0) + 4 + (zip64 ? 16 : 8);
    if (this.queued < length) return false;
    this.take(length);
    this.state = { kind: 'signature' };
    return true;
  }

  private fail(reason: string): boolean {
    this.error ??= reason;
    if (this.state.kind === 'deflated') this.state.inflater.destroy();
    this.state = { kind: 'done' };
    this.queue = [];
    this.queued = 0;
    return false;
  }

  private peek(n: number): Buffer {
    if (this.queue[0]!.length >= n) return this.queue[0]!.subarray(0, n);
    const joined = Buffer.concat(this.queue);
    this.queue = [joined];
    return joined.subarray(0, n);
  }

  private peekUpTo(n: number): Buffer {
    const first = this.queue[0]!;
    return first.subarray(0, Math.min(n, first.length));
  }

  private takeUpTo(n: number): Buffer {
    return this.take(Math.min(n, this.queue[0]!.length));
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const taken = this.peek(n);
    this.position += n;
    this.queued -= n;
    const first = this.queue[0]!;
    if (first.length === n) this.queue.shift();
    else this.queue[0] = first.subarray(n);
    return taken;
  }
}
