/**
 * Child process of test/unit/archiveMemory.test.ts: generates a 1 GiB nested archive chunk by chunk
 * (never whole in memory) and feeds it to one scan pass, then prints the findings, the listing and
 * the process's peak RSS as JSON. Run alone so the peak is the scan's, not the test runner's.
 *
 *   outer.tar
 *   ├── readme.txt
 *   ├── lib/bundle.zip            (stored zip, 16 × 64 MiB stored entries, then:)
 *   │   └── nested/release.tar.gz (64 MiB of text gzipped, the EICAR signature in its last file)
 *   └── tail.txt
 */
import { randomBytes } from 'node:crypto';
import { crc32, gzipSync } from 'node:zlib';
import { archiveScanner } from '../../functions/core/archive/archiveScanner.ts';
import { eicarScanner, secretScanner } from '../../functions/core/scanners.ts';
import { EICAR, tar } from './archives.ts';

const MiB = 2 ** 20;
const BLOCK = randomBytes(MiB);
const ENTRY_MiB = 64;
const STORED_ENTRIES = 16;

/** One stored zip entry's local header. */
function localHeader(name: string, size: number, crc: number): Buffer {
  const header = Buffer.alloc(30 + Buffer.byteLength(name));
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt32LE(crc, 14);
  header.writeUInt32LE(size, 18);
  header.writeUInt32LE(size, 22);
  header.writeUInt16LE(Buffer.byteLength(name), 26);
  header.write(name, 30);
  return header;
}

function centralHeader(name: string, size: number, crc: number, offset: number): Buffer {
  const header = Buffer.alloc(46 + Buffer.byteLength(name));
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(0x0314, 4);
  header.writeUInt16LE(20, 6);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(size, 20);
  header.writeUInt32LE(size, 24);
  header.writeUInt16LE(Buffer.byteLength(name), 28);
  header.writeUInt32LE(offset, 42);
  header.write(name, 46);
  return header;
}

/**
 * A tar.gz of 64 MiB of text whose last file carries the EICAR signature: one gzip member per file
 * (concatenated members are one gzip stream to every reader), so only one file is held at a time.
 */
function releaseTarGz(): Buffer {
  const text = Buffer.from('a line of a log file that compresses well\n'.repeat(25_000)).subarray(0, MiB);
  const members: Buffer[] = [];
  for (let i = 0; i < 64; i++) {
    const file = tar([{ path: `logs/${i}.log`, data: text }]);
    members.push(gzipSync(file.subarray(0, file.length - 1024), { level: 1 }));
  }
  members.push(gzipSync(tar([{ path: 'payload/eicar.com', data: EICAR }])));
  return Buffer.concat(members);
}

const RELEASE = releaseTarGz();

function* bundleZip(): Generator<Buffer> {
  const size = ENTRY_MiB * MiB;
  let crc = 0;
  for (let i = 0; i < ENTRY_MiB; i++) crc = crc32(BLOCK, crc);
  const release = RELEASE;
  const central: Buffer[] = [];
  let offset = 0;
  for (let n = 0; n < STORED_ENTRIES; n++) {
    const name = `data/part-${n}.bin`;
    const header = localHeader(name, size, crc);
    central.push(centralHeader(name, size, crc, offset));
    yield header;
    for (let i = 0; i < ENTRY_MiB; i++) yield BLOCK;
    offset += header.length + size;
  }
  const name = 'nested/release.tar.gz';
  central.push(centralHeader(name, release.length, crc32(release), offset));
  yield localHeader(name, release.length, crc32(release));
  yield release;
  offset += 30 + name.length + release.length;
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length, 8);
  end.writeUInt16LE(central.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  yield directory;
  yield end;
}

function* outerTar(): Generator<Buffer> {
  let zipSize = 0;
  for (const chunk of bundleZip()) zipSize += chunk.length; // sizes first: a tar header needs it
  const head = tar([{ path: 'readme.txt', data: 'hello' }]);
  yield head.subarray(0, head.length - 1024);
  const header = tar([{ path: 'lib/bundle.zip', declaredSize: zipSize }]);
  yield header.subarray(0, 512);
  yield* bundleZip();
  yield Buffer.alloc((512 - (zipSize % 512)) % 512);
  yield tar([{ path: 'tail.txt', data: 'bye' }]);
}

const baselineRssBytes = process.memoryUsage().rss;
const pass = archiveScanner({ inner: [eicarScanner, secretScanner] }).start();
let bytes = 0;
for (const chunk of outerTar()) {
  // Handed over in the 64 KiB pieces a storage read gives.
  for (let at = 0; at < chunk.length; at += 64 * 1024) {
    const piece = chunk.subarray(at, at + 64 * 1024);
    bytes += piece.length;
    const pending = pass.update(piece);
    if (pending) await pending;
  }
}
const findings = await pass.finish();
const peakRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(
  JSON.stringify({
    bytes,
    findings,
    contents: pass.contents?.(),
    peakRssBytes,
    baselineRssBytes,
    releaseBytes: RELEASE.length,
  }),
);
