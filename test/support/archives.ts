/**
 * Builds tar and zip archives byte by byte, so tests can make the hostile ones real tools refuse to
 * write (`../` names, links out of the tree, overlapping zip entries, lying sizes).
 */

export interface TarSpec {
  readonly path: string;
  readonly data?: Buffer | string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'hardlink';
  readonly linkTarget?: string;
  /** Write the name in a PAX header ('x') or a GNU long-name record ('L') instead of the header. */
  readonly longName?: 'pax' | 'gnu';
}

const TYPE_FLAGS = { file: '0', directory: '5', symlink: '2', hardlink: '1' } as const;

function tarHeader(name: string, size: number, flag: string, linkTarget = ''): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 100), 0, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
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
    if (e.longName === 'pax') {
      const pax = paxRecord('path', e.path);
      blocks.push(tarHeader('PaxHeader', pax.length, 'x'), padded(pax));
    } else if (e.longName === 'gnu') {
      const name = Buffer.from(`${e.path}\0`);
      blocks.push(tarHeader('././@LongLink', name.length, 'L'), padded(name));
    }
    const size = type === 'file' ? data.length : 0;
    blocks.push(tarHeader(e.longName ? 'long-name' : e.path, size, TYPE_FLAGS[type], e.linkTarget));
    if (size > 0) blocks.push(padded(data));
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
}

/** A zip of stored (uncompressed) entries with its central directory. CRCs are not computed. */
export function zip(entries: readonly ZipSpec[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.path);
    const data = Buffer.from(e.data ?? '');
    const at = e.sameDataAs === undefined ? offset : offsets[e.sameDataAs]!;
    offsets.push(at);
    if (e.sameDataAs === undefined) {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt32LE(data.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(name.length, 26);
      locals.push(local, name, data);
      offset += local.length + name.length + data.length;
    }
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(0x0314, 4);
    dir.writeUInt16LE(20, 6);
    const source = e.sameDataAs === undefined ? e : entries[e.sameDataAs]!;
    const stored = Buffer.byteLength(source.data ?? '');
    dir.writeUInt32LE(stored, 20);
    dir.writeUInt32LE(e.declaredSize ?? stored, 24);
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
