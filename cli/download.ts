import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { IntegrityError } from './errors.ts';
import { ensureOk, send } from './http.ts';
import type { FileProgress } from './progress.ts';

export interface ExpectedFile {
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
}

/** Verified bytes in a hidden temp file beside their target, not yet visible under their name. */
export interface PartialDownload {
  readonly target: string;
  /** The sha256 the bytes hashed to while they streamed (equal to the expected one). */
  readonly sha256: string;
  /** Renames the temp file into place (atomic within the directory). */
  commit(): Promise<string>;
  /** Deletes the temp file. */
  discard(): Promise<void>;
}

/**
 * Downloads `url` into `dir/<name>`: streams into a hidden temp file in the same directory while
 * hashing, then renames it into place, so `dir/<name>` is either absent, the old file, or the
 * verified new one. Bytes that do not hash to `expected.sha256` are deleted and refused (exit 4).
 */
export async function downloadVerified(
  url: string,
  dir: string,
  expected: ExpectedFile,
  progress: FileProgress,
): Promise<string> {
  return (await downloadPartial(url, dir, expected, progress)).commit();
}

/**
 * The first half of `downloadVerified`: the bytes, verified against `expected`, in the temp file.
 * The caller commits or discards it, so several files can appear together or not at all.
 */
export async function downloadPartial(
  url: string,
  dir: string,
  expected: ExpectedFile,
  progress: FileProgress,
): Promise<PartialDownload> {
  // A path name (`dist/js/app.js`) lands in its subdirectory, which the caller created and checked.
  const target = join(dir, expected.name);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.arca-partial`);
  const hash = createHash('sha256');
  let size = 0;
  let actual: string;
  try {
    const res = await ensureOk(await send({ method: 'GET', url }));
    await pipeline(
      res,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length;
          if (size > expected.size) throw sizeError(expected, size);
          hash.update(chunk);
          progress.add(chunk.length);
          yield chunk;
        }
      },
      // flush: fsync before close, so the rename never publishes bytes still in the page cache only.
      createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: true }),
    );
    if (size !== expected.size) throw sizeError(expected, size);
    actual = hash.digest('hex');
    if (actual !== expected.sha256) {
      throw new IntegrityError(
        `${expected.name}: the downloaded bytes hash to sha256:${actual}, not sha256:${expected.sha256}; deleted`,
        'DigestMismatch',
      );
    }
  } catch (error) {
    progress.add(-size);
    await rm(temp, { force: true });
    throw error;
  }
  return {
    target,
    sha256: actual,
    commit: async () => {
      await rename(temp, target);
      return target;
    },
    discard: () => rm(temp, { force: true }),
  };
}

const sizeError = (expected: ExpectedFile, got: number) =>
  new IntegrityError(
    `${expected.name}: received ${got}${got > expected.size ? '+' : ''} bytes, expected ${expected.size}; deleted`,
    'SizeMismatch',
  );
