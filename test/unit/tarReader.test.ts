import { describe, expect, it } from 'vitest';
import { MAX_META_BYTES, type TarEntry, TarReader } from '../../functions/core/archive/tarReader.ts';
import { BIG_ENTRY_BYTES, bigTarChunks, fixture, tar } from '../support/archives.ts';

/** Reads `chunks` with a fresh reader: the entries it announced, the data bytes it handed over, its error. */
function read(chunks: Iterable<Buffer>): { entries: TarEntry[]; dataBytes: number; error?: string } {
  const entries: TarEntry[] = [];
  let dataBytes = 0;
  const reader = new TarReader({
    entry: (entry) => entries.push(entry),
    data: (chunk) => {
      dataBytes += chunk.length;
    },
    endEntry: () => {},
  });
  for (const chunk of chunks) reader.write(chunk);
  reader.end();
  return { entries, dataBytes, ...(reader.error ? { error: reader.error } : {}) };
}

const LONG_NAME = `app/${'a-file-name-longer-than-the-hundred-bytes-of-a-ustar-name-field-'.repeat(2)}end.txt`;
const LONG_TARGET = `lib/${'v'.repeat(110)}/libexample.so.1`;

/** The tree `make.py` archives, as every tool should list it. */
const TREE: TarEntry[] = [
  { path: 'app/', type: 'directory', size: 0 },
  { path: LONG_NAME, type: 'file', size: 12 },
  { path: 'app/bin/', type: 'directory', size: 0 },
  { path: 'app/bin/server', type: 'file', size: 700 },
  { path: 'app/current', type: 'symlink', size: 0, linkTarget: LONG_TARGET },
  { path: 'app/données.txt', type: 'file', size: 15 },
  { path: 'app/sbom.cdx.json', type: 'file', size: 45 },
  { path: 'payload/eicar.com', type: 'file', size: 68 },
];

describe('TarReader', () => {
  it.each(['gnu-tar-pax.tar', 'gnu-tar-gnu.tar', 'python-pax.tar', 'python-gnu.tar'])(
    'reads every entry of %s, long names and long link targets included',
    (name) => {
      const { entries, dataBytes, error } = read([fixture(name)]);

      expect(error).toBeUndefined();
      expect(entries).toEqual(TREE);
      expect(dataBytes).toBe(12 + 700 + 15 + 45 + 68);
    },
  );

  it('reads a plain ustar archive written by GNU tar', () => {
    const { entries, error } = read([fixture('gnu-tar-ustar.tar')]);

    expect(error).toBeUndefined();
    expect(entries.map((e) => e.path)).toEqual([
      'app/bin/',
      'app/bin/server',
      'app/sbom.cdx.json',
      'payload/eicar.com',
    ]);
  });

  it('reads an entry whose size is in a PAX size record (defect: tar reader stopped at a PAX size)', () => {
    const { entries, error } = read([fixture('python-pax-size-record.tar')]);

    expect(error).toBeUndefined();
    expect(entries).toEqual([
      { path: 'app/big-entry.bin', type: 'file', size: 980 },
      { path: 'payload/eicar.com', type: 'file', size: 68 },
    ]);
  });

  it.each(['gnu-tar-pax-8gib.tar', 'python-pax-8gib.tar', 'gnu-tar-gnu-8gib.tar', 'python-gnu-8gib.tar'])(
    'reads an 8 GiB entry of %s, sized by a PAX record or in base-256, and the entry after it (defect: tar reader stopped at a PAX size)',
    (name) => {
      const { entries, dataBytes, error } = read(bigTarChunks(name));

      expect(error).toBeUndefined();
      expect(entries).toEqual([
        { path: 'big/disk.img', type: 'file', size: BIG_ENTRY_BYTES },
        { path: 'payload/eicar.com', type: 'file', size: 68 },
      ]);
      expect(dataBytes).toBe(BIG_ENTRY_BYTES + 68);
    },
  );

  it('says where an 8 GiB entry sized by a PAX record is cut short (defect: tar reader stopped at a PAX size)', () => {
    const cut = Buffer.concat([fixture('gnu-tar-pax-8gib.tar.head'), Buffer.alloc(64 * 1024)]);

    const { entries, error } = read([cut]);

    expect(entries).toEqual([{ path: 'big/disk.img', type: 'file', size: BIG_ENTRY_BYTES }]);
    expect(error).toBe(
      `the archive ends ${BIG_ENTRY_BYTES - 64 * 1024} bytes short of the end of the data of "big/disk.img"`,
    );
  });

  it('reads a small size written in base-256 and refuses a negative one', () => {
    const base256 = tar([{ path: 'a', data: 'abc', sizeIn: 'base256' }, { path: 'b' }]);
    const negative = Buffer.from(base256);
    negative[124] = 0xff;
    fixChecksum(negative.subarray(0, 512));

    expect(read([base256]).entries.map((e) => [e.path, e.size])).toEqual([
      ['a', 3],
      ['b', 0],
    ]);
    expect(read([negative]).error).toBe('a header has an unreadable size');
  });

  it('refuses a PAX size record that is not a decimal number', () => {
    const archive = tar([{ path: 'a', data: 'abc', sizeIn: 'pax' }]);
    const record = archive.indexOf('size=3');
    archive.write('x', record + 5);

    expect(read([archive]).error).toBe('a PAX size record is unreadable');
  });

  it('accepts an archive ending with one zero block, or none, as many tools write it', () => {
    const archive = fixture('gnu-tar-ustar.tar');
    const lastData = archive.indexOf('ARCA-FIXTURE-PLACEHOLDER') + 512;

    expect(read([archive.subarray(0, lastData + 512)]).error).toBeUndefined();
    expect(read([archive.subarray(0, lastData)]).error).toBeUndefined();
    expect(read([archive.subarray(0, lastData + 100)]).error).toBeUndefined();
  });

  it('lists an archive appended after the end marker, as `tar --ignore-zeros` extracts it', () => {
    const first = tar([{ path: 'a', data: 'x' }]);
    const second = tar([{ path: 'hidden/b', data: 'y' }]);

    const { entries, error } = read([Buffer.concat([first, second, Buffer.from('trailing junk')])]);

    expect(error).toBeUndefined();
    expect(entries.map((e) => e.path)).toEqual(['a', 'hidden/b']);
  });

  it('holds one block and at most its metadata limit, however many extended headers precede an entry', () => {
    const record = (key: string) => tar([{ path: `${key}-${'k'.repeat(60_000)}`, longName: 'pax' }]);
    const headers = Array.from({ length: 40 }, (_, i) => {
      const one = record(String(i));
      return one.subarray(0, one.length - 1536); // the PAX header and its record, without the entry
    });
    const reader = new TarReader({ entry: () => {}, data: () => {}, endEntry: () => {} });
    let most = 0;

    for (const chunk of headers) {
      reader.write(chunk);
      most = Math.max(most, reader.heldBytes);
    }

    expect(reader.error).toBe(`extended headers of more than ${MAX_META_BYTES} bytes`);
    expect(most).toBeLessThanOrEqual(512 + MAX_META_BYTES);
  });
});

function fixChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
}
