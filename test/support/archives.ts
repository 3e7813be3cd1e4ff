import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';

/**
 * Builds tar and zip archives byte by byte, so tests can make the hostile ones real tools refuse to
 * write (`../` names, links out of the tree, overlapping zip entries, lying sizes), and reads the
 * archives real tools wrote (`test/fixtures/archives`, made by its `make.py`).
 */

export interface TarSpec {
  readonly path: string;
  readonly data?: Buffer | string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'hardlink';
  readonly linkTarget?: string;
  /** Write the name in a PAX header ('x') or a GNU long-name record ('L') instead of the header. */
  readonly longName?: 'pax' | 'gnu';
  /**
   * Where the size goes: the octal field (default), a PAX `size` record with the field left 0 (as
   * tools write an entry of 8 GiB or more), or the field in GNU base-256.
   */
  readonly sizeIn?: 'octal' | 'pax' | 'base256';
  /** The size to declare when it should not be the data's: more than the data makes a truncated tar. */
  readonly declaredSize?: number;
}

const TYPE_FLAGS = { file: '0', directory: '5', symlink: '2', hardlink: '1' } as const;

function tarHeader(name: string, size: number, flag: string, linkTarget = '', base256 = false): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 100), 0, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  if (base256) {
    block.writeBigUInt64BE(BigInt(size), 128);
    block[124] = 0x80;
  } else block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write('00000000000\0', 136);
  block.write(flag, 156);
  block.write(linkTarget.slice(0, 100), 157, 'utf8');
  block.write('ustar\0', 257);
  block.write('00', 263);
  block.write('        ', 148);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

const padded = (data: Buffer) => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return Buffer.from(`${length}${body}`);
}

/** A ustar archive of `entries`, with its two-block end marker. */
export function tar(entries: readonly TarSpec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const type = e.type ?? 'file';
    const size = type === 'file' ? (e.declaredSize ?? data.length) : 0;
    const records = [
      ...(e.longName === 'pax' ? [paxRecord('path', e.path)] : []),
      ...(e.sizeIn === 'pax' ? [paxRecord('size', String(size))] : []),
    ];
    if (records.length > 0) {
      const pax = Buffer.concat(records);
      blocks.push(tarHeader('PaxHeader', pax.length, 'x'), padded(pax));
    }
    if (e.longName === 'gnu') {
      const name = Buffer.from(`${e.path}\0`);
      blocks.push(tarHeader('././@LongLink', name.length, 'L'), padded(name));
    }
    const name = e.longName ? 'long-name' : e.path;
    const field = e.sizeIn === 'pax' ? 0 : size;
    blocks.push(tarHeader(name, field, TYPE_FLAGS[type], e.linkTarget, e.sizeIn === 'base256'));
    if (type === 'file' && data.length > 0) blocks.push(padded(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface ZipSpec {
  readonly path: string;
  readonly data?: Buffer | string;
  /** The uncompressed size to declare, when it should lie. */
  readonly declaredSize?: number;
  /** Point this entry's directory record at an earlier entry's data (a zip bomb's overlap). */
  readonly sameDataAs?: number;
  /** Deflate the data (default: stored). */
  readonly deflate?: boolean;
  /** Leave the sizes out of the local header and write them in a data descriptor after the data, as Java's jar does. */
  readonly descriptor?: boolean;
}

/** A zip of stored or deflated entries with its central directory. CRCs are not computed. */
export function zip(entries: readonly ZipSpec[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  const stored: number[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.path);
    const raw = Buffer.from(e.data ?? '');
    const data = e.deflate ? deflateRawSync(raw) : raw;
    const at = e.sameDataAs === undefined ? offset : offsets[e.sameDataAs]!;
    offsets.push(at);
    stored.push(e.sameDataAs === undefined ? data.length : stored[e.sameDataAs]!);
    const method = e.deflate ? 8 : 0;
    if (e.sameDataAs === undefined) {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(e.descriptor ? 8 : 0, 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt32LE(e.descriptor ? 0 : data.length, 18);
      local.writeUInt32LE(e.descriptor ? 0 : raw.length, 22);
      local.writeUInt16LE(name.length, 26);
      const descriptor = Buffer.alloc(e.descriptor ? 16 : 0);
      if (e.descriptor) {
        descriptor.writeUInt32LE(0x08074b50, 0);
        descriptor.writeUInt32LE(data.length, 8);
        descriptor.writeUInt32LE(raw.length, 12);
      }
      locals.push(local, name, data, descriptor);
      offset += local.length + name.length + data.length + descriptor.length;
    }
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(0x0314, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(method, 10);
    const source = e.sameDataAs === undefined ? e : entries[e.sameDataAs]!;
    dir.writeUInt32LE(stored.at(-1)!, 20);
    dir.writeUInt32LE(e.declaredSize ?? Buffer.byteLength(source.data ?? ''), 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(at, 42);
    central.push(dir, name);
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const FIXTURES = new URL('../fixtures/archives/', import.meta.url);

/** An archive a real tool wrote, from `test/fixtures/archives`. */
export const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

/** The EICAR anti-malware test signature: the fixtures hold a placeholder of its length instead. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

const PLACEHOLDER = 'ARCA-FIXTURE-PLACEHOLDER-OF-THE-EICAR-SIGNATURE-LENGTH-SIXTY-EIGHT!!';

/** A fixture tar with the EICAR signature spliced into `payload/eicar.com`, its last entry. */
export function withEicar(archive: Buffer): Buffer {
  const at = archive.indexOf(PLACEHOLDER);
  if (at === -1) throw new Error('the archive holds no EICAR placeholder');
  const spliced = Buffer.from(archive);
  spliced.write(EICAR, at, 'latin1');
  return spliced;
}

/** The size of the big entry in the `*-8gib.tar` fixtures: 8 GiB and 1,000 bytes. */
export const BIG_ENTRY_BYTES = 8 * 2 ** 30 + 1000;

/**
 * A `*-8gib.tar` fixture whole, as chunks: the stored head, the big entry's zeros (padding
 * included; one buffer, handed out again and again), then the stored tail.
 */
export function* bigTarChunks(name: string, chunkBytes = 16 * 2 ** 20): Generator<Buffer> {
  yield fixture(`${name}.head`);
  const zeros = Buffer.alloc(chunkBytes);
  const padded = Math.ceil(BIG_ENTRY_BYTES / 512) * 512;
  for (let left = padded; left > 0; left -= chunkBytes) yield zeros.subarray(0, Math.min(left, chunkBytes));
  yield fixture(`${name}.tail`);
}
