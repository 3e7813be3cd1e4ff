import { createHash, type Hash } from 'node:crypto';
import { readFileSync, type Stats, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { isFileName } from '../functions/core/names.ts';
import { CliError, EXIT, UsageError } from './errors.ts';

/** Chunk size of part uploads: large enough for few syscalls, small enough that 4 parts stay light. */
export const READ_CHUNK = 1024 * 1024;

export interface LocalFile {
  readonly path: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly mediaType: string;
}

const MEDIA_TYPES: readonly [RegExp, string][] = [
  [/\.(tar\.gz|tgz|gz)$/, 'application/gzip'],
  [/\.zip$/, 'application/zip'],
  [/\.tar$/, 'application/x-tar'],
  [/\.json$/, 'application/json'],
  [/\.(txt|md|log)$/, 'text/plain'],
  [/\.(jar|war)$/, 'application/java-archive'],
];

export const mediaTypeOf = (name: string): string =>
  MEDIA_TYPES.find(([pattern]) => pattern.test(name))?.[1] ?? 'application/octet-stream';

/** The file's name in the version: its basename, which must satisfy the contract's file-name rule. */
export function fileNameOf(path: string): string {
  const name = basename(path);
  if (!isFileName(name)) throw new UsageError(`${path}: ${JSON.stringify(name)} is not a valid file name`);
  return name;
}

/**
 * Files this small are read whole, synchronously: a tree of small files is bound by opens, and each
 * asynchronous open-read-close costs several thread-pool round trips (1,000 1 KiB files: ~120 ms
 * against ~15 ms).
 */
const READ_WHOLE_UP_TO = 64 * 1024;

/** Reads the file once for its sha256 and size; refuses a file that changes while it is read. */
export async function hashFile(
  path: string,
  onBytes: (n: number) => void,
  name = fileNameOf(path),
): Promise<LocalFile> {
  let before: Stats;
  try {
    before = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  if (!before.isFile()) throw new UsageError(`${path}: not a regular file`);
  const hash = createHash('sha256');
  let size = 0;
  if (before.size <= READ_WHOLE_UP_TO) {
    const bytes = readFileSync(path);
    size = bytes.length;
    hash.update(bytes);
    onBytes(size);
  } else {
    size = await streamInto(hash, path, before.size, onBytes);
  }
  const after = statSync(path);
  if (size !== before.size || after.size !== size || after.mtimeMs !== before.mtimeMs) {
    throw new CliError(EXIT.integrity, `${path} changed while it was being hashed`, 'FileChanged');
  }
  return { path, name, size, sha256: hash.digest('hex'), mediaType: mediaTypeOf(name) };
}

/** Streams the file into `hash` (two reused buffers, so memory stays flat); returns its size. */
async function streamInto(hash: Hash, path: string, expected: number, onBytes: (n: number) => void) {
  // The next read fills one buffer while the hash consumes the other.
  const chunk = Math.min(READ_CHUNK, expected + 1);
  const buffers: readonly Buffer[] = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
  const handle = await open(path, 'r');
  let size = 0;
  try {
    let turn = 0;
    let reading = handle.read(buffers[0]!, 0, chunk, 0);
    for (;;) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      size += bytesRead;
      turn ^= 1;
      reading = handle.read(buffers[turn]!, 0, chunk, size);
      hash.update(buffer.subarray(0, bytesRead));
      onBytes(bytesRead);
    }
  } finally {
    await handle.close();
  }
  return size;
}
