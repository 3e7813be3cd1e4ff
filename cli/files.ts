import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { isFileName } from '../functions/core/names.ts';
import { CliError, EXIT, UsageError } from './errors.ts';

/** Reads in large chunks: fewer syscalls and hash calls, still a few MiB of memory at most. */
export const READ_CHUNK = 4 * 1024 * 1024;

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
export async function hashFile(path: string, onBytes: (n: number) => void): Promise<LocalFile> {
  const before = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  if (!before.isFile()) throw new UsageError(`${path}: not a regular file`);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    onBytes(chunk.length);
  }
  const after = await stat(path);
  if (size !== before.size || after.size !== size || after.mtimeMs !== before.mtimeMs) {
    throw new CliError(EXIT.integrity, `${path} changed while it was being hashed`, 'FileChanged');
  }
  const name = fileNameOf(path);
  return { path, name, size, sha256: hash.digest('hex'), mediaType: mediaTypeOf(name) };
}
