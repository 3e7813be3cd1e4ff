import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, link, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { UploadIncompleteError } from '../../core/errors.ts';
import type {
  BlobStore,
  CompletedPart,
  MultipartUpload,
  Sha256,
  SignedRequest,
  StagedObject,
} from '../../ports.ts';
import type { StorageGrant, UrlSigner } from './urlSigner.ts';

/** A rejected storage request, answered like S3 answers: status plus a code in the error envelope. */
export class StorageRejectionError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FsBlobStoreOptions {
  readonly dataDir: string;
  readonly signer: UrlSigner;
  /** Base URL of the local server, e.g. `http://127.0.0.1:7070`. */
  readonly publicUrl: string;
  readonly multipartThreshold?: number;
  readonly partSize?: number;
  /** Called after a staged object becomes visible (the embedded stand-in for an S3 event). */
  readonly onStaged?: (stagingKey: string) => void;
}

const MiB = 1024 * 1024;

/**
 * The filesystem blob store. Every write lands in a private file under `tmp/`, is checked (size, and
 * digest where one was signed), fsynced, then renamed into place: no partial or unverified file is
 * ever visible under `staging/` or `blobs/`, and no request ever holds open a file that is visible
 * there. A staged or stored file is therefore never written again once it has a name: the scan's
 * hard link into CAS shares an inode nothing can change (issue 11, defect 1: a part PUT held open
 * across commit and scan used to write into the stored blob).
 */
export class FsBlobStore implements BlobStore {
  readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly root: string;
  /**
   * Staged files this process wrote with a single PUT, fsynced before the PUT answered: their scan
   * need not flush them again before they enter CAS (on ext4 that second fsync of an unchanged file
   * still costs a journal commit, ~1.5 ms per file). Assembled multipart files, and anything staged
   * before a restart, are not in it and are flushed as before.
   */
  private readonly flushedStaged = new Set<string>();

  constructor(private readonly options: FsBlobStoreOptions) {
    this.root = options.dataDir;
    this.multipartThreshold = options.multipartThreshold ?? 64 * MiB;
    this.partSize = options.partSize ?? 16 * MiB;
  }

  /**
   * Creates the directories; call once at start, before serving. Whatever a killed process left in
   * `tmp/` is an unfinished write that nothing references: it goes.
   */
  async init(): Promise<void> {
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
    await mkdir(this.root, { recursive: true, mode: DIR_MODE });
    await chmod(this.root, DIR_MODE); // a data dir made by an earlier version was 0755
    await Promise.all(
      ['tmp', 'staging', 'blobs/sha256'].map((d) =>
        mkdir(join(this.root, d), { recursive: true, mode: DIR_MODE }),
      ),
    );
  }

  private path(key: string): string {
    return join(this.root, key);
  }

  blobKey(sha256: Sha256): string {
    return `blobs/sha256/${sha256.slice(0, 2)}/${sha256}`;
  }

  blobPath(sha256: Sha256): string {
    return this.path(this.blobKey(sha256));
  }

  private url(kind: 'upload' | 'download', grant: StorageGrant, suffix = ''): string {
    return `${this.options.publicUrl}/storage/${kind}/${this.options.signer.sign(grant)}${suffix}`;
  }

  async signUpload(
    stagingKey: string,
    size: number,
    sha256: Sha256 | undefined,
    expiresAt: Date,
  ): Promise<SignedRequest> {
    const digest = sha256 === undefined ? {} : { sha256 };
    const url = this.url('upload', { op: 'put', key: stagingKey, size, ...digest, exp: expiresAt.getTime() });
    const headers: Record<string, string> = { 'content-length': String(size) };
    if (sha256 !== undefined)
      headers['x-amz-checksum-sha256'] = Buffer.from(sha256, 'hex').toString('base64');
    return { method: 'PUT', url, headers };
  }

  /** A pack's PUT: its length signed, no digest (the scan checks each file in it). */
  signPackUpload(stagingKey: string, size: number, expiresAt: Date): Promise<SignedRequest> {
    return this.signUpload(stagingKey, size, undefined, expiresAt);
  }

  async startMultipart(
    stagingKey: string,
    size: number,
    _sha256: Sha256,
    expiresAt: Date,
  ): Promise<MultipartUpload> {
    const multipartId = randomBytes(12).toString('hex');
    // The upload exists from here on: a part PUT for an upload completed or aborted since is refused.
    await mkdir(this.multipartDir(stagingKey, multipartId), { recursive: true, mode: DIR_MODE });
    const partSize = Math.max(this.partSize, Math.ceil(size / 10_000 / MiB) * MiB);
    const count = Math.max(1, Math.ceil(size / partSize));
    const parts = Array.from({ length: count }, (_, i) => {
      const offset = i * partSize;
      const length = Math.min(partSize, size - offset);
      const grant = {
        op: 'part',
        key: stagingKey,
        multipartId,
        partNumber: i + 1,
        offset,
        size: length,
        exp: expiresAt.getTime(),
      } as const;
      return {
        partNumber: i + 1,
        method: 'PUT' as const,
        url: this.url('upload', grant),
        headers: { 'content-length': String(length) },
      };
    });
    return { multipartId, partSize, parts };
  }

  private multipartDir(stagingKey: string, multipartId: string): string {
    return this.path(`${stagingKey}.mp-${multipartId}`);
  }

  /** Receives a single-PUT upload: streams to a temp file while hashing, keeps it only if it matches. */
  async receivePut(
    grant: Extract<StorageGrant, { op: 'put' }>,
    headers: Record<string, string | undefined>,
    body: Readable,
  ) {
    checkSignedHeaders(grant.size, headers, grant.sha256);
    let etag = '';
    await this.receiveInto(body, grant.size, async (tmp, sha256) => {
      etag = sha256;
      if (grant.sha256 !== undefined && sha256 !== grant.sha256)
        throw new StorageRejectionError(400, 'BadDigest', 'the body does not hash to the signed sha256');
      await renameInto(tmp, this.path(grant.key));
    });
    this.flushedStaged.add(grant.key);
    this.options.onStaged?.(grant.key);
    return { etag: `"${(grant.sha256 ?? etag).slice(0, 32)}"` };
  }

  /**
   * Receives one part into a private temp file; once its size holds it is renamed to
   * `part-<n>.<etag>` in the upload's directory. A part sent again gets a file of its own, and the
   * commit picks, by ETag, exactly the parts it lists. An upload completed or aborted meanwhile
   * answers 404 `NoSuchUpload`, like S3, and leaves nothing behind.
   */
  async receivePart(
    grant: Extract<StorageGrant, { op: 'part' }>,
    headers: Record<string, string | undefined>,
    body: Readable,
  ) {
    checkSignedHeaders(grant.size, headers);
    const dir = this.multipartDir(grant.key, grant.multipartId);
    if (!(await stat(dir).catch(() => null))) throw noSuchUpload();
    let etag = '';
    await this.receiveInto(body, grant.size, async (tmp, sha256) => {
      etag = sha256.slice(0, 32);
      await rename(tmp, join(dir, partFile(grant.partNumber, etag))).catch((error) => {
        throw error?.code === 'ENOENT' ? noSuchUpload() : error;
      });
    });
    return { etag: `"${etag}"` };
  }

  /** Streams `body` into a private temp file of exactly `size` bytes, then hands it to `keep`. */
  private async receiveInto(
    body: Readable,
    size: number,
    keep: (tmp: string, sha256: Sha256) => Promise<void>,
  ): Promise<void> {
    const tmp = this.path(`tmp/${randomBytes(12).toString('hex')}`);
    try {
      const written = await writeStream(tmp, body, size);
      if (written.size !== size) throw sizeMismatch(written.size, size);
      await keep(tmp, written.sha256);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  /**
   * Assembles the listed parts into a new file (never one a request could still be writing), then
   * renames it to the staged key. Completing twice: like S3, the upload is gone once its object exists.
   */
  async completeMultipart(
    stagingKey: string,
    multipartId: string,
    parts: readonly CompletedPart[],
  ): Promise<void> {
    const dir = this.multipartDir(stagingKey, multipartId);
    const present = await readdir(dir).catch(() => null);
    if (!present) {
      if (await this.statStaged(stagingKey)) return;
      throw new UploadIncompleteError(`the multipart upload of ${stagingKey} no longer exists`);
    }
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const files = sorted.map((part, i) => {
      const name = partFile(part.partNumber, normaliseEtag(part.etag));
      if (part.partNumber !== i + 1 || !present.includes(name)) {
        throw new UploadIncompleteError(
          `part ${part.partNumber} of ${stagingKey} is missing or its ETag does not match`,
        );
      }
      return join(dir, name);
    });
    const uploaded = new Set(present.map((f) => /^part-(\d+)\./.exec(f)?.[1]).filter(Boolean));
    if (sorted.length < uploaded.size)
      throw new UploadIncompleteError(`the commit lists ${sorted.length} of ${uploaded.size} uploaded parts`);
    const tmp = this.path(`tmp/${randomBytes(12).toString('hex')}`);
    try {
      await concatenate(files, tmp);
      this.flushedStaged.delete(stagingKey);
      await renameInto(tmp, this.path(stagingKey));
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    await rm(dir, { recursive: true, force: true });
    this.options.onStaged?.(stagingKey);
  }

  async abortMultipart(stagingKey: string, multipartId: string): Promise<void> {
    await rm(this.multipartDir(stagingKey, multipartId), { recursive: true, force: true });
  }

  async statStaged(stagingKey: string): Promise<StagedObject | null> {
    const s = await stat(this.path(stagingKey)).catch(() => null);
    // The embedded PUT verified the digest before the rename, but multipart parts are not: report none.
    return s?.isFile() ? { size: s.size } : null;
  }

  async readStaged(stagingKey: string): Promise<AsyncIterable<Uint8Array> | null> {
    const handle = await open(this.path(stagingKey), 'r').catch(() => null);
    if (!handle) return null;
    // A ReadStream allocates a whole highWaterMark per read: size it to the file for small uploads.
    const { size } = await handle.stat();
    return handle.createReadStream({ highWaterMark: Math.min(MiB, Math.max(16 * 1024, size)) });
  }

  async hasBlob(sha256: Sha256): Promise<boolean> {
    return (await stat(this.blobPath(sha256)).catch(() => null)) !== null;
  }

  /**
   * Verify-then-link: the scanned staged file gets a second name in CAS. Nothing can write to it
   * (see the class comment), so CAS holds exactly the bytes the scan read. False when the staged file
   * is gone (aborted or expired meanwhile) and the blob is not stored either.
   */
  async copyToBlob(stagingKey: string, sha256: Sha256): Promise<boolean> {
    if (await this.hasBlob(sha256)) return true;
    const target = this.blobPath(sha256);
    await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    try {
      // Durable before the index can say `available` (an assembled multipart file is not fsynced yet).
      if (!this.flushedStaged.has(stagingKey)) {
        const staged = await open(this.path(stagingKey), 'r');
        await staged.sync().finally(() => staged.close());
      }
      await link(this.path(stagingKey), target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return true; // a concurrent scan of the same content linked it first
      if (code === 'ENOENT') return false;
      throw error;
    }
    return true;
  }

  /**
   * Writes the bytes to a private temp file, fsyncs it, then links it under the blob's name: the blob
   * key never shows a partial file, and holds durable bytes before the index can say `available`.
   */
  async putBlob(sha256: Sha256, bytes: Uint8Array): Promise<void> {
    if (await this.hasBlob(sha256)) return;
    const target = this.blobPath(sha256);
    await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    const tmp = this.path(`tmp/${randomBytes(12).toString('hex')}`);
    try {
      const handle = await open(tmp, 'wx', FILE_MODE);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // link, not rename: an existing blob (a concurrent scan of the same content) is never replaced.
      await link(tmp, target).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Deletes staged files, then their `staging/<uploadId>/` directories once empty. */
  async deleteStaged(stagingKeys: readonly string[]): Promise<void> {
    await Promise.all(stagingKeys.map((k) => rm(this.path(k), { force: true })));
    for (const k of stagingKeys) this.flushedStaged.delete(k);
    const dirs = new Set(stagingKeys.map((k) => dirname(this.path(k))));
    // ENOTEMPTY: another file of the session is still staged; its own deletion removes the directory.
    await Promise.all([...dirs].map((d) => rmdir(d).catch(() => undefined)));
  }

  async deleteBlobs(sha256s: readonly Sha256[]): Promise<void> {
    await Promise.all(sha256s.map((s) => rm(this.blobPath(s), { force: true })));
  }

  async signDownload(sha256: Sha256, fileName: string, mediaType: string, expiresAt: Date): Promise<string> {
    const grant = { op: 'get', sha256, name: fileName, mediaType, exp: expiresAt.getTime() } as const;
    return this.url('download', grant, `/${encodeURIComponent(fileName)}`);
  }

  openBlob(sha256: Sha256, range?: { start: number; end: number }): Readable {
    return createReadStream(this.blobPath(sha256), range);
  }
}

const normaliseEtag = (etag: string) => etag.replaceAll('"', '').trim();

/** Part files are named by number and ETag: `part-3.<32 hex>`. */
const partFile = (partNumber: number, etag: string) => `part-${partNumber}.${etag}`;

const noSuchUpload = () =>
  new StorageRejectionError(404, 'NoSuchUpload', 'the multipart upload was completed or aborted');

/** Only the store's own user reads the data dir: blobs of every namespace live there. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

const sizeMismatch = (got: number, want: number) =>
  new StorageRejectionError(400, 'SizeMismatch', `the body is ${got} bytes; the URL was signed for ${want}`);

/** The headers a presigned S3 URL binds: a different length or checksum is refused before any write. */
function checkSignedHeaders(size: number, headers: Record<string, string | undefined>, sha256?: string) {
  const length = headers['content-length'];
  if (length !== undefined && Number(length) !== size) throw sizeMismatch(Number(length), size);
  if (sha256 !== undefined) {
    const checksum = headers['x-amz-checksum-sha256'];
    if (checksum !== undefined && checksum !== Buffer.from(sha256, 'hex').toString('base64')) {
      throw new StorageRejectionError(
        400,
        'BadDigest',
        'x-amz-checksum-sha256 differs from the signed sha256',
      );
    }
  }
}

/**
 * Streams `body` into a new file at `path` (mode 0600), hashing as it goes, and stops early (without
 * reading the rest) once more than `limit` bytes arrive. Writes go out in ~1 MiB batches; fsyncs
 * before returning.
 */
async function writeStream(path: string, body: Readable, limit: number) {
  const handle = await open(path, 'wx', FILE_MODE);
  const hash = createHash('sha256');
  let size = 0;
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    await handle.writev(batch, size - batched);
    batch = [];
    batched = 0;
  };
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw sizeMismatch(size, limit);
      hash.update(chunk);
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= MiB) await flush();
    }
    await flush();
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Renames `from` to `to`, creating `to`'s directory. `deleteStaged` removes a session's directory
 * once it is empty, possibly between the mkdir and the rename: then the directory is made again.
 */
async function renameInto(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      // Even the recursive mkdir can answer ENOENT: it saw the directory, which was removed before
      // it could stat it.
      await mkdir(dirname(to), { recursive: true, mode: DIR_MODE });
      return await rename(from, to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10) throw error;
    }
  }
}

/**
 * Writes `sources` one after another into a new file at `target`. Not fsynced here: the parts are
 * durable already, and the scan fsyncs the assembled file before it enters CAS (`copyToBlob`), so a
 * commit does not wait for a second writeback of every byte.
 */
async function concatenate(sources: readonly string[], target: string): Promise<void> {
  const out = await open(target, 'wx', FILE_MODE);
  try {
    const buffer = Buffer.allocUnsafe(8 * MiB);
    let position = 0;
    for (const source of sources) {
      const input = await open(source, 'r');
      try {
        for (;;) {
          const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) break;
          await out.write(buffer, 0, bytesRead, position);
          position += bytesRead;
        }
      } finally {
        await input.close();
      }
    }
  } finally {
    await out.close();
  }
}
