import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
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

/** Streams the file once for its sha256 and size; refuses a file that changes while it is read. */
export async function hashFile(
  path: string,
  onBytes: (n: number) => void,
  name = fileNameOf(path),
): Promise<LocalFile> {
  const before = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  if (!before.isFile()) throw new UsageError(`${path}: not a regular file`);
  const hash = createHash('sha256');
  // Two reused buffers: the next read fills one while the hash consumes the other, and no garbage
  // per chunk keeps memory flat whatever the file size.
  const buffers: readonly Buffer[] = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  const handle = await open(path, 'r');
  let size = 0;
  try {
    let turn = 0;
    let reading = handle.read(buffers[0]!, 0, READ_CHUNK, 0);
    for (;;) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      size += bytesRead;
      turn ^= 1;
      reading = handle.read(buffers[turn]!, 0, READ_CHUNK, size);
      hash.update(buffer.subarray(0, bytesRead));
      onBytes(bytesRead);
    }
  } finally {
    await handle.close();
  }
  const after = await stat(path);
  if (size !== before.size || after.size !== size || after.mtimeMs !== before.mtimeMs) {
    throw new CliError(EXIT.integrity, `${path} changed while it was being hashed`, 'FileChanged');
  }
  return { path, name, size, sha256: hash.digest('hex'), mediaType: mediaTypeOf(name) };
}
