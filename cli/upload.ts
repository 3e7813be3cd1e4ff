import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { CommittedParts, SignedRequest, UploadInstruction } from './client.ts';
import { IntegrityError } from './errors.ts';
import { type LocalFile, READ_CHUNK } from './files.ts';
import { ensureOk, readText, send } from './http.ts';
import type { FileProgress } from './progress.ts';
import { type RetryPolicy, withRetry } from './retry.ts';

export interface UploadPlan {
  /** One task per PUT (the whole file, or one part): the caller runs them with bounded concurrency. */
  readonly tasks: (() => Promise<void>)[];
  /** The parts to commit, once every task has succeeded; undefined for a single-PUT file. */
  committed(): CommittedParts | undefined;
}

export interface UploadContext {
  readonly retry: RetryPolicy;
  readonly onRetry?: (what: string, error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Plans the PUTs of one file. Each reads its own byte range from disk (never the whole file into
 * memory) and is retried on its own, so a failed part costs that part, not the file.
 */
export function planUpload(
  file: LocalFile,
  instruction: UploadInstruction,
  progress: FileProgress,
  context: UploadContext,
): UploadPlan {
  if (instruction.upload) {
    const signed = instruction.upload;
    return {
      tasks: [() => putRange(file, 0, file.size, signed, progress, context, file.name).then(() => {})],
      committed: () => undefined,
    };
  }
  const multipart = instruction.multipart;
  if (!multipart) throw new Error(`the server gave no upload URL for ${file.name}`);
  const etags = new Map<number, string>();
  const tasks = multipart.parts.map((part) => async () => {
    const start = (part.partNumber - 1) * multipart.partSize;
    const length = Number(part.headers['content-length'] ?? Math.min(multipart.partSize, file.size - start));
    const label = `${file.name} part ${part.partNumber}`;
    etags.set(part.partNumber, await putRange(file, start, length, part, progress, context, label));
  });
  return {
    tasks,
    committed: () => ({
      name: file.name,
      parts: multipart.parts.map((p) => ({ partNumber: p.partNumber, etag: etags.get(p.partNumber)! })),
    }),
  };
}

/**
 * The pack's one PUT: the packed files' bytes, one file after another in the order the server listed
 * them, streamed from disk (one read buffer at a time, never a whole file or the whole pack in memory)
 * and retried whole.
 */
export function planPackUpload(
  files: readonly LocalFile[],
  pack: SignedRequest & { readonly size: number },
  progress: FileProgress,
  context: UploadContext,
): () => Promise<void> {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  if (total !== pack.size) {
    throw new IntegrityError(`the server asked for a pack of ${pack.size} bytes; its files hold ${total}`);
  }
  const body = () => Readable.from(packBytes(files));
  const label = `pack of ${files.length} files`;
  return () => putBody(pack, pack.size, body, progress, context, label).then(() => {});
}

/**
 * The packed files' bytes in order, in writes of up to `READ_CHUNK`: small files are read whole into
 * the write being gathered (never more than one write in memory), a larger one is streamed. Small
 * files are read synchronously: a pack is many tiny files, bound by opens rather than bytes, and each
 * asynchronous open-read-close costs several thread-pool round trips (~4× slower for 1,000 1 KiB
 * files); the event loop waits at most one gathered write's reads.
 */
async function* packBytes(files: readonly LocalFile[]): AsyncGenerator<Buffer> {
  let batch: Buffer[] = [];
  let batched = 0;
  for (const file of files) {
    if (file.size > READ_CHUNK) {
      if (batched > 0) yield Buffer.concat(batch, batched);
      [batch, batched] = [[], 0];
      yield* createReadStream(file.path, { end: file.size - 1, highWaterMark: READ_CHUNK });
      continue;
    }
    if (batched + file.size > READ_CHUNK) {
      yield Buffer.concat(batch, batched);
      [batch, batched] = [[], 0];
    }
    batch.push(readWhole(file));
    batched += file.size;
  }
  if (batched > 0) yield Buffer.concat(batch, batched);
}

/** The whole of a small file, refused if it no longer has the size it was hashed with. */
function readWhole(file: LocalFile): Buffer {
  const bytes = readFileSync(file.path);
  if (bytes.length !== file.size) {
    throw new IntegrityError(
      `${file.name} changed since it was hashed (${bytes.length} bytes, was ${file.size})`,
    );
  }
  return bytes;
}

/** PUTs `length` bytes of the file from `start` to a signed URL, with retries; returns the ETag. */
function putRange(
  file: LocalFile,
  start: number,
  length: number,
  signed: SignedRequest,
  progress: FileProgress,
  context: UploadContext,
  label: string,
): Promise<string> {
  if (start + length > file.size) {
    throw new IntegrityError(`${file.name}: the server asked for bytes past the end of the file`);
  }
  const body = () =>
    createReadStream(file.path, { start, end: start + length - 1, highWaterMark: READ_CHUNK });
  return putBody(signed, length, body, progress, context, label);
}

/** PUTs a body of `length` bytes to a signed URL, with retries, counting progress; returns the ETag. */
async function putBody(
  signed: SignedRequest,
  length: number,
  open: () => Readable,
  progress: FileProgress,
  context: UploadContext,
  label: string,
): Promise<string> {
  const headers = { ...signed.headers, 'content-length': String(length) };
  return withRetry(
    context.retry,
    async () => {
      let sent = 0;
      const body = () => {
        const stream = open();
        stream.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          progress.add(chunk.length);
        });
        return stream;
      };
      try {
        const res = await ensureOk(
          await send({ method: signed.method, url: signed.url, headers, body: length > 0 ? body : '' }),
        );
        await readText(res);
        const etag = res.headers['etag'];
        return typeof etag === 'string' ? etag : '';
      } catch (error) {
        progress.add(-sent);
        throw error;
      }
    },
    (error, attempt, delayMs) => context.onRetry?.(`PUT ${label}`, error, attempt, delayMs),
  );
}
