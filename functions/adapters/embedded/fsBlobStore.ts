import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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
 * The filesystem blob store. Every write lands in `tmp/`, is fsynced, then renamed into place, so
 * no partial file is ever visible under `staging/` or `blobs/`; verified bytes move into CAS by
 * rename, never by copy.
 */
export class FsBlobStore implements BlobStore {
  readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly root: string;

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
    await Promise.all(
      ['tmp', 'staging', 'blobs/sha256'].map((d) => mkdir(join(this.root, d), { recursive: true })),
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
    sha256: Sha256,
    expiresAt: Date,
  ): Promise<SignedRequest> {
    const url = this.url('upload', { op: 'put', key: stagingKey, size, sha256, exp: expiresAt.getTime() });
    return {
      method: 'PUT',
      url,
      headers: {
        'content-length': String(size),
        'x-amz-checksum-sha256': Buffer.from(sha256, 'hex').toString('base64'),
      },
    };
  }

  async startMultipart(
    stagingKey: string,
    size: number,
    _sha256: Sha256,
    expiresAt: Date,
  ): Promise<MultipartUpload> {
    const multipartId = randomBytes(12).toString('hex');
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
    const tmp = this.path(`tmp/${randomBytes(12).toString('hex')}`);
    try {
      const { size, sha256 } = await writeStream(tmp, body, grant.size, 0, 'create');
      if (size !== grant.size) throw sizeMismatch(size, grant.size);
      if (sha256 !== grant.sha256)
        throw new StorageRejectionError(400, 'BadDigest', 'the body does not hash to the signed sha256');
      const final = this.path(grant.key);
      await mkdir(dirname(final), { recursive: true });
      await rename(tmp, final);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    this.options.onStaged?.(grant.key);
    return { etag: `"${grant.sha256.slice(0, 32)}"` };
  }

  /** Receives one part: written in place at its offset; its ETag file marks it complete. */
  async receivePart(
    grant: Extract<StorageGrant, { op: 'part' }>,
    headers: Record<string, string | undefined>,
    body: Readable,
  ) {
    checkSignedHeaders(grant.size, headers);
    const dir = this.multipartDir(grant.key, grant.multipartId);
    await mkdir(dir, { recursive: true });
    const { size, sha256 } = await writeStream(join(dir, 'data'), body, grant.size, grant.offset, 'inPlace');
    if (size !== grant.size) throw sizeMismatch(size, grant.size);
    const etag = `"${sha256.slice(0, 32)}"`;
    await writeFile(join(dir, `part-${grant.partNumber}`), etag);
    return { etag };
  }

  async completeMultipart(
    stagingKey: string,
    multipartId: string,
    parts: readonly CompletedPart[],
  ): Promise<void> {
    const dir = this.multipartDir(stagingKey, multipartId);
    // Completing twice (a retried commit): like S3, the upload is gone once its object exists.
    if (!(await stat(dir).catch(() => null)) && (await this.statStaged(stagingKey))) return;
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    for (const [i, part] of sorted.entries()) {
      const stored = await readFile(join(dir, `part-${part.partNumber}`), 'utf8').catch(() => undefined);
      if (
        part.partNumber !== i + 1 ||
        stored === undefined ||
        normaliseEtag(stored) !== normaliseEtag(part.etag)
      ) {
        throw new UploadIncompleteError(
          `part ${part.partNumber} of ${stagingKey} is missing or its ETag does not match`,
        );
      }
    }
    const expected = (await readdir(dir)).filter((f) => f.startsWith('part-')).length;
    if (sorted.length < expected)
      throw new UploadIncompleteError(`the commit lists ${sorted.length} of ${expected} uploaded parts`);
    const data = join(dir, 'data');
    const handle = await open(data, 'r+');
    await handle.sync().finally(() => handle.close());
    await rename(data, this.path(stagingKey));
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

  async moveToBlob(stagingKey: string, sha256: Sha256): Promise<void> {
    const target = this.blobPath(sha256);
    if (await this.hasBlob(sha256)) {
      await rm(this.path(stagingKey), { force: true });
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    await rename(this.path(stagingKey), target);
  }

  async deleteStaged(stagingKeys: readonly string[]): Promise<void> {
    await Promise.all(stagingKeys.map((k) => rm(this.path(k), { force: true })));
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
 * Streams `body` into `path` at `offset`, hashing as it goes, and stops early (without reading the
 * rest) once more than `limit` bytes arrive. Writes go out in ~1 MiB batches; fsyncs before returning.
 */
async function writeStream(
  path: string,
  body: Readable,
  limit: number,
  offset: number,
  mode: 'create' | 'inPlace',
) {
  const flags = mode === 'create' ? 'w' : constants.O_RDWR | constants.O_CREAT;
  const handle = await open(path, flags, 0o644);
  const hash = createHash('sha256');
  let size = 0;
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    await handle.writev(batch, offset + size - batched);
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
