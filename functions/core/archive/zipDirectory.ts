/**
 * Reads a zip file's central directory from the file's tail. A zip is listed at its end, so a single
 * streaming pass that keeps the last few MiB can list every entry (name, sizes, where its data
 * starts) without inflating anything. ZIP64 is read; encryption and multi-disk archives are not
 * inspected further than their listing.
 */

import { applyZip64Extra } from './zip64Extra.ts';

export interface ZipEntry {
  readonly path: string;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** Offset of the entry's local header in the file. */
  readonly offset: number;
}

export interface ZipListing {
  readonly entries: number;
  /** The uncompressed sizes the directory declares, summed. */
  readonly declaredBytes: number;
  /** Two entries whose data overlap: the trick behind non-recursive zip bombs. */
  readonly overlap?: { readonly path: string; readonly overlaps: string };
  readonly error?: string;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const MAX_COMMENT = 0xffff;

/**
 * Walks the central directory found in `tail` (the last `tail.length` of `fileSize` bytes), calling
 * `onEntry` for each entry. Answers what the directory declares, or why it could not be read.
 */
export function readZipDirectory(
  tail: Buffer,
  fileSize: number,
  onEntry: (entry: ZipEntry) => void,
): ZipListing {
  const ranges: { start: number; end: number; path: string }[] = [];
  const listing = walkDirectory(tail, fileSize, (entry) => {
    ranges.push({ start: entry.offset, end: entry.offset + entry.compressedSize, path: entry.path });
    onEntry(entry);
  });
  return { ...listing, ...overlapIn(ranges) };
}

/** The first entry whose data starts inside an earlier entry's, in file order. */
function overlapIn(ranges: { start: number; end: number; path: string }[]): Pick<ZipListing, 'overlap'> {
  ranges.sort((a, b) => a.start - b.start);
  const [first, ...rest] = ranges;
  let furthest = first;
  for (const range of rest) {
    if (furthest && range.start < furthest.end)
      return { overlap: { path: range.path, overlaps: furthest.path } };
    if (!furthest || range.end > furthest.end) furthest = range;
  }
  return {};
}

function walkDirectory(tail: Buffer, fileSize: number, onEntry: (entry: ZipEntry) => void): ZipListing {
  const tailStart = fileSize - tail.length;
  let declaredBytes = 0;
  const eocd = findEocd(tail);
  if (eocd === -1) return { entries: 0, declaredBytes, error: 'no end-of-central-directory record' };
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const zip64 = readZip64(tail, eocd, tailStart);
    if (!zip64) return { entries: 0, declaredBytes, error: 'a ZIP64 directory that cannot be located' };
    ({ count, cdSize, cdOffset } = zip64);
  }
  if (cdOffset + cdSize > fileSize) {
    return { entries: 0, declaredBytes, error: 'the central directory runs past the end of the file' };
  }
  let at = cdOffset - tailStart;
  if (at < 0) {
    const error = `the central directory is larger than the ${tail.length} bytes of the file's end kept to read it`;
    return { entries: 0, declaredBytes, error };
  }
  for (let n = 0; n < count; n++) {
    if (at + 46 > tail.length || tail.readUInt32LE(at) !== CENTRAL_HEADER) {
      return { entries: n, declaredBytes, error: `central directory entry ${n + 1} is malformed` };
    }
    const nameLength = tail.readUInt16LE(at + 28);
    const extraLength = tail.readUInt16LE(at + 30);
    const commentLength = tail.readUInt16LE(at + 32);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > tail.length) {
      return { entries: n, declaredBytes, error: `central directory entry ${n + 1} is truncated` };
    }
    const header = [tail.readUInt32LE(at + 24), tail.readUInt32LE(at + 20), tail.readUInt32LE(at + 42)];
    const extra = tail.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    const [uncompressedSize, compressedSize, offset] = (applyZip64Extra(extra, header) ?? header) as [
      number,
      number,
      number,
    ];
    const path = tail.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    onEntry({ path, compressedSize, uncompressedSize, offset });
    declaredBytes += uncompressedSize;
    at = end;
  }
  return { entries: count, declaredBytes };
}

/**
 * The end record: the one whose comment reaches the end of the file, else (as Python's zipfile and
 * unzip read it) the last one in the final 64 KiB, when bytes were appended after the zip.
 */
function findEocd(tail: Buffer): number {
  const lowest = Math.max(0, tail.length - 22 - MAX_COMMENT);
  let appended = -1;
  for (let at = tail.length - 22; at >= lowest; at--) {
    if (tail.readUInt32LE(at) !== EOCD) continue;
    const end = at + 22 + tail.readUInt16LE(at + 20);
    if (end === tail.length) return at;
    if (appended === -1 && end < tail.length) appended = at;
  }
  return appended;
}

function readZip64(tail: Buffer, eocd: number, tailStart: number) {
  const locator = eocd - 20;
  if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR) return undefined;
  const record = Number(tail.readBigUInt64LE(locator + 8)) - tailStart;
  if (record < 0 || record + 56 > tail.length || tail.readUInt32LE(record) !== ZIP64_EOCD) return undefined;
  return {
    count: Number(tail.readBigUInt64LE(record + 32)),
    cdSize: Number(tail.readBigUInt64LE(record + 40)),
    cdOffset: Number(tail.readBigUInt64LE(record + 48)),
  };
}
