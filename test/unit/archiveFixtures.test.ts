import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { archiveScanner } from '../../functions/core/archive/archiveScanner.ts';
import { readZipDirectory } from '../../functions/core/archive/zipDirectory.ts';
import type { ContentSummary, Finding } from '../../functions/core/model.ts';
import { eicarScanner, secretScanner } from '../../functions/core/scanners.ts';
import { BIG_ENTRY_BYTES, bigTarChunks, fixture, tar, withEicar } from '../support/archives.ts';

/** Runs one archive pass over `chunks`, as the scan step would. */
async function inspect(chunks: Iterable<Buffer>): Promise<{ findings: Finding[]; contents: ContentSummary }> {
  const pass = archiveScanner({ inner: [eicarScanner, secretScanner] }).start();
  for (const chunk of chunks) {
    const pending = pass.update(chunk);
    if (pending) await pending;
  }
  const findings = await pass.finish();
  return { findings, contents: pass.contents?.() ?? {} };
}

const rules = (findings: Finding[]) => findings.map((f) => `${f.rule} ${f.path ?? ''}`.trim());

describe('archiveScanner on archives written by real tools', () => {
  it.each(['gnu-tar-pax.tar', 'gnu-tar-gnu.tar', 'python-pax.tar', 'python-gnu.tar'])(
    'lists %s gzipped to its last entry and finds the EICAR signature there',
    async (name) => {
      const { findings, contents } = await inspect([gzipSync(withEicar(fixture(name)))]);

      expect(rules(findings)).toEqual(['EICAR-Test-File payload/eicar.com']);
      expect(contents.archive).toEqual({
        format: 'tar+gzip',
        entries: 8,
        expandedBytes: 12 + 700 + 15 + 45 + 68,
        sboms: ['app/sbom.cdx.json'],
      });
    },
  );

  it('quarantines a tar.gz whose EICAR entry follows an entry sized by a PAX record (defect: tar reader stopped at a PAX size)', async () => {
    const archive = gzipSync(withEicar(fixture('python-pax-size-record.tar')));

    const { findings, contents } = await inspect([archive]);

    expect(rules(findings)).toEqual(['EICAR-Test-File payload/eicar.com']);
    expect(contents.archive).toMatchObject({ format: 'tar+gzip', entries: 2, expandedBytes: 980 + 68 });
  });

  it('lists an 8 GiB entry sized by a PAX record and the file after it (defect: tar reader stopped at a PAX size)', async () => {
    const { findings, contents } = await inspect(bigTarChunks('gnu-tar-pax-8gib.tar'));

    expect(findings).toEqual([]);
    expect(contents.archive).toEqual({
      format: 'tar',
      entries: 2,
      expandedBytes: BIG_ENTRY_BYTES + 68,
      sboms: [],
    });
  });

  it.each([
    ['GNU tar', 'gnu-tar-pax-8gib.tar.head'],
    ['Python', 'python-pax-8gib.tar.head'],
  ])(
    'never calls clean a tar whose 8 GiB entry, sized by %s in a PAX record, is cut short (defect: tar reader stopped at a PAX size)',
    async (_tool, head) => {
      // The data of a sparse 8 GiB file is zeros: read as size 0, they looked like the end of the archive.
      const cut = Buffer.concat([fixture(head), Buffer.alloc(1024 * 1024)]);

      const { findings, contents } = await inspect([cut]);

      expect(rules(findings)).toEqual(['archive-unreadable']);
      expect(findings[0]!.message).toMatch(
        /^the archive could not be read to its end: the archive ends \d+ bytes short/,
      );
      expect(contents.archive).toMatchObject({ format: 'tar', entries: 1 });
    },
  );

  it('never calls clean a hand-made tar.gz declaring an 8 GiB entry in a PAX record with a few bytes of data', async () => {
    const archive = tar([
      { path: 'big.bin', data: 'x'.repeat(600), sizeIn: 'pax', declaredSize: 2 ** 33 + 5 },
    ]);

    const { findings, contents } = await inspect([gzipSync(archive)]);

    expect(rules(findings)).toEqual(['archive-unreadable']);
    expect(contents.archive?.incomplete).toMatch(
      /^the archive ends \d+ bytes short of the end of the data of "big.bin"$/,
    );
  });

  it.each([
    ['info-zip.zip', 8],
    ['info-zip-zip64.zip', 8],
    ['python-zipfile.zip', 5],
    ['python-zip64.zip', 5],
  ])('lists %s from its central directory', async (name, entries) => {
    const { findings, contents } = await inspect([fixture(name)]);

    expect(findings).toEqual([]);
    expect(contents.archive).toEqual({
      format: 'zip',
      entries,
      expandedBytes: 12 + 700 + 15 + 45 + 68 + (entries === 8 ? LONG_TARGET_BYTES : 0),
      sboms: ['app/sbom.cdx.json'],
    });
  });

  it('quarantines a zip cut short, saying its directory is missing', async () => {
    const zip = fixture('python-zip64.zip');

    const { findings } = await inspect([zip.subarray(0, zip.length - 30)]);

    expect(findings).toEqual([
      {
        scanner: 'archive',
        rule: 'archive-unreadable',
        message: 'the archive could not be read to its end: no end-of-central-directory record',
      },
    ]);
  });

  it('reads a zip whose ZIP64 extra field declares more bytes than the entry holds (defect: zip reader threw RangeError)', async () => {
    const zip = Buffer.from(fixture('python-zip64.zip'));
    const entries = readZipDirectory(zip, zip.length, () => {}).entries;
    let central = zip.indexOf(CENTRAL_HEADER);
    while (zip.readUInt16LE(central + 30) === 0) central = zip.indexOf(CENTRAL_HEADER, central + 1);
    const extra = central + 46 + zip.readUInt16LE(central + 28);
    expect(zip.readUInt16LE(extra)).toBe(1);
    // The entry's extra field shrinks to the record's header and one of its three 8-byte values (the
    // other two become comment, so the directory's layout holds); the record still declares all three.
    zip.writeUInt16LE(12, central + 30);
    zip.writeUInt16LE(zip.readUInt16LE(central + 32) + 16, central + 32);

    let listed = 0;
    expect(() => readZipDirectory(zip, zip.length, () => listed++)).not.toThrow();
    expect(listed).toBe(entries);
    const { contents } = await inspect([zip]);
    expect(contents.archive).toMatchObject({ format: 'zip', entries });
  });

  it('quarantines a zip whose local ZIP64 record declares more bytes than the header holds (defect: zip stream threw RangeError)', async () => {
    const zip = Buffer.from(fixture('python-zip64.zip'));
    expect(zip.readUInt16LE(28)).toBe(20);
    expect(zip.readUInt16LE(30 + zip.readUInt16LE(26) + 2)).toBe(16);
    zip.writeUInt16LE(16, 28); // the first local header keeps 12 of the record's 16 bytes

    const { findings } = await inspect([zip]);

    expect(rules(findings)).toContain('archive-unreadable');
  });
});

const CENTRAL_HEADER = Buffer.from([0x50, 0x4b, 0x01, 0x02]);

/** Info-ZIP stores the symlink `app/current` as an entry whose data is its target. */
const LONG_TARGET_BYTES = `lib/${'v'.repeat(110)}/libexample.so.1`.length;
