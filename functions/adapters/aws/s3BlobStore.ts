import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BUCKET_LAYOUT } from '../../config/resources.ts';
import { UploadIncompleteError } from '../../core/errors.ts';
import type {
  BlobStore,
  CompletedPart,
  MultipartUpload,
  Sha256,
  SignedRequest,
  StagedObject,
} from '../../ports.ts';
import type { CloudFrontDownloads } from './cloudFrontUrls.ts';
import { copyInParts, MAX_COPY_OBJECT_BYTES } from './s3MultipartCopy.ts';
import { choosePartSize, copySourceOf, isMissing, MIB, partRanges } from './s3Parts.ts';
import {
  cdnQuery,
  expiresInSeconds,
  presignGet,
  presignPart,
  presignPut,
  responseOverrides,
} from './s3Presign.ts';

export interface S3BlobStoreOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Files larger than this are uploaded in parts (default 64 MiB). */
  readonly multipartThreshold?: number;
  /** Smallest part handed out (default 16 MiB; S3's own floor is 5 MiB). */
  readonly minPartSize?: number;
  /** Staged objects larger than this are copied with UploadPartCopy (default and S3 maximum 5 GiB). */
  readonly copyPartThreshold?: number;
  /** Download URLs through CloudFront when it has a key; S3 presigned GETs otherwise. */
  readonly cdn?: CloudFrontDownloads;
  readonly now?: () => Date;
}

/** S3's per-request key limit for DeleteObjects. */
const DELETE_BATCH = 1000;

export const blobKeyOf = (sha256: Sha256): string =>
  `${BUCKET_LAYOUT.blobPrefix}${sha256.slice(0, 2)}/${sha256}`;

/**
 * BlobStore on one S3 bucket. Clients upload straight to `staging/` with presigned requests whose
 * length and sha256 are signed headers, so S3 itself refuses other bytes; the scan worker alone moves
 * verified bytes to `blobs/sha256/`.
 */
export class S3BlobStore implements BlobStore {
  readonly multipartThreshold: number;
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly minPartSize: number;
  private readonly copyPartThreshold: number;
  private readonly cdn: CloudFrontDownloads | undefined;
  private readonly now: () => Date;

  constructor(options: S3BlobStoreOptions) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.multipartThreshold = options.multipartThreshold ?? 64 * MIB;
    this.minPartSize = Math.max(options.minPartSize ?? 16 * MIB, 5 * MIB);
    this.copyPartThreshold = Math.min(
      options.copyPartThreshold ?? MAX_COPY_OBJECT_BYTES,
      MAX_COPY_OBJECT_BYTES,
    );
    this.cdn = options.cdn;
    this.now = options.now ?? (() => new Date());
  }

  signUpload(stagingKey: string, size: number, sha256: Sha256, expiresAt: Date): Promise<SignedRequest> {
    return presignPut(this.s3, this.bucket, stagingKey, size, sha256, this.expiresIn(expiresAt));
  }

  signPackUpload(stagingKey: string, size: number, expiresAt: Date): Promise<SignedRequest> {
    return presignPut(this.s3, this.bucket, stagingKey, size, undefined, this.expiresIn(expiresAt));
  }

  /**
   * Parts carry no per-part checksum: the client cannot be told part digests upfront, and the scan
   * worker recomputes the whole object's sha256 before anything is served.
   */
  async startMultipart(
    stagingKey: string,
    size: number,
    _sha256: Sha256,
    expiresAt: Date,
  ): Promise<MultipartUpload> {
    const created = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: stagingKey }),
    );
    const multipartId = created.UploadId!;
    const partSize = choosePartSize(size, this.minPartSize);
    const expiresIn = this.expiresIn(expiresAt);
    const parts = await Promise.all(
      partRanges(size, partSize).map((part) =>
        presignPart(this.s3, this.bucket, stagingKey, multipartId, part, expiresIn),
      ),
    );
    return { multipartId, partSize, parts };
  }

  async completeMultipart(
    stagingKey: string,
    multipartId: string,
    parts: readonly CompletedPart[],
  ): Promise<void> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    try {
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: stagingKey,
          UploadId: multipartId,
          MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    } catch (error) {
      // Completing twice: S3 forgets the upload id once the object exists.
      if (isMissing(error) && (await this.statStaged(stagingKey))) return;
      throw new UploadIncompleteError(`the uploaded parts of ${stagingKey} cannot be assembled`, {
        cause: error,
        details: { reason: errorName(error) },
      });
    }
  }

  async abortMultipart(stagingKey: string, multipartId: string): Promise<void> {
    try {
      await this.s3.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: stagingKey, UploadId: multipartId }),
      );
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async statStaged(stagingKey: string): Promise<StagedObject | null> {
    const head = await this.head(stagingKey, true);
    if (!head) return null;
    const checksum = head.ChecksumSHA256;
    // A composite checksum (`<b64>-<parts>`) is a hash of part hashes, not the file's digest.
    const fullObject = checksum !== undefined && !checksum.includes('-') && head.ChecksumType !== 'COMPOSITE';
    return {
      size: head.ContentLength ?? 0,
      ...(fullObject ? { sha256: Buffer.from(checksum, 'base64').toString('hex') } : {}),
    };
  }

  async readStaged(stagingKey: string): Promise<AsyncIterable<Uint8Array> | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: stagingKey }));
      // In Node the body is an IncomingMessage: iterating it streams, nothing is buffered here.
      return res.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async hasBlob(sha256: Sha256): Promise<boolean> {
    return (await this.head(blobKeyOf(sha256), false)) !== null;
  }

  /**
   * Copies the staged object into CAS server-side. What S3 holds under a staged key cannot change
   * after the scan read it: a single PUT is bound to its sha256 by the signed checksum header, and a
   * completed multipart upload takes no more parts.
   */
  async copyToBlob(stagingKey: string, sha256: Sha256): Promise<boolean> {
    const target = blobKeyOf(sha256);
    if (await this.head(target, false)) return true;
    const staged = await this.head(stagingKey, false);
    if (!staged) return false;
    const size = staged.ContentLength ?? 0;
    if (size > this.copyPartThreshold) {
      await copyInParts(this.s3, this.bucket, stagingKey, target, size, this.copyPartThreshold);
    } else {
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: target,
          CopySource: copySourceOf(this.bucket, stagingKey),
        }),
      );
    }
    return true;
  }

  /** One PutObject, its sha256 checked by S3 itself: the key shows the whole object or nothing. */
  async putBlob(sha256: Sha256, bytes: Uint8Array): Promise<void> {
    const target = blobKeyOf(sha256);
    if (await this.head(target, false)) return;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: target,
        Body: bytes,
        ContentLength: bytes.length,
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
      }),
    );
  }

  deleteStaged(stagingKeys: readonly string[]): Promise<void> {
    return this.deleteKeys(stagingKeys);
  }

  deleteBlobs(sha256s: readonly Sha256[]): Promise<void> {
    return this.deleteKeys(sha256s.map(blobKeyOf));
  }

  async signDownload(sha256: Sha256, fileName: string, mediaType: string, expiresAt: Date): Promise<string> {
    const response = responseOverrides(fileName, mediaType);
    const viaCdn = await this.cdn?.sign(blobKeyOf(sha256), cdnQuery(response), expiresAt);
    if (viaCdn) return viaCdn;
    const expiresIn = this.expiresIn(expiresAt);
    return presignGet(this.s3, this.bucket, blobKeyOf(sha256), response, expiresIn);
  }

  private async deleteKeys(keys: readonly string[]): Promise<void> {
    const unique = [...new Set(keys)];
    for (let at = 0; at < unique.length; at += DELETE_BATCH) {
      const batch = unique.slice(at, at + DELETE_BATCH);
      const res = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        throw new Error(
          `S3 refused to delete ${failed.length} keys, first ${failed[0]?.Key}: ${failed[0]?.Code}`,
        );
      }
    }
  }

  private async head(key: string, withChecksum: boolean) {
    try {
      return await this.s3.send(
        new HeadObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(withChecksum ? { ChecksumMode: 'ENABLED' as const } : {}),
        }),
      );
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  private expiresIn(expiresAt: Date): number {
    return expiresInSeconds(expiresAt, this.now());
  }
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : 'Unknown');
