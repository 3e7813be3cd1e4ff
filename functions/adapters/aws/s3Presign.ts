import { GetObjectCommand, PutObjectCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Sha256, SignedPart, SignedRequest } from '../../ports.ts';
import type { PartRange } from './s3Parts.ts';

/** Longest presigned URL lifetime SigV4 allows. */
const MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

/** Seconds from `now` until `expiresAt`, within what SigV4 accepts. */
export function expiresInSeconds(expiresAt: Date, now: Date): number {
  const seconds = Math.ceil((expiresAt.getTime() - now.getTime()) / 1000);
  return Math.min(Math.max(seconds, 1), MAX_EXPIRY_SECONDS);
}

/**
 * A PUT of exactly `size` bytes hashing to `sha256`. Both headers stay headers (the presigner would
 * hoist `x-amz-*` into the query string) and are signed: a client that sends other bytes, or drops the
 * checksum, gets S3's own 400/403 instead of a staged object. Without `sha256` (a pack, whose digest is
 * not known upfront: the scan checks each file in it) only the length is signed.
 */
export async function presignPut(
  s3: S3Client,
  bucket: string,
  key: string,
  size: number,
  sha256: Sha256 | undefined,
  expiresIn: number,
): Promise<SignedRequest> {
  const checksum = sha256 === undefined ? undefined : Buffer.from(sha256, 'hex').toString('base64');
  const command = new PutObjectCommand({
    Bucket: bucket,
    Key: key,
    ContentLength: size,
    ...(checksum ? { ChecksumSHA256: checksum } : {}),
  });
  const headers = {
    'content-length': String(size),
    ...(checksum ? { 'x-amz-checksum-sha256': checksum } : {}),
  };
  const url = await getSignedUrl(s3, command, {
    expiresIn,
    signableHeaders: new Set(Object.keys(headers)),
    unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
  });
  return { method: 'PUT', url, headers };
}

/** One part's PUT, its length signed. */
export async function presignPart(
  s3: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
  part: PartRange,
  expiresIn: number,
): Promise<SignedPart> {
  const command = new UploadPartCommand({
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumber: part.partNumber,
    ContentLength: part.length,
  });
  const headers = { 'content-length': String(part.length) };
  const url = await getSignedUrl(s3, command, { expiresIn, signableHeaders: new Set(Object.keys(headers)) });
  return { partNumber: part.partNumber, method: 'PUT', url, headers };
}

/** What S3 answers a download with instead of the blob key's name and type. */
export interface ResponseOverrides {
  readonly contentDisposition: string;
  readonly contentType: string;
}

export const responseOverrides = (fileName: string, mediaType: string): ResponseOverrides => ({
  // File names are restricted to [A-Za-z0-9._+-], so quoting them needs no escaping.
  contentDisposition: `attachment; filename="${fileName}"`,
  contentType: mediaType,
});

/**
 * The same overrides as a CloudFront query string: the distribution's cache policy forwards exactly
 * these two parameters to S3 (through OAC, so S3 honours them) and keys its cache on them.
 */
export const cdnQuery = (r: ResponseOverrides): string =>
  `response-content-disposition=${encodeURIComponent(r.contentDisposition)}` +
  `&response-content-type=${encodeURIComponent(r.contentType)}`;

/** A GET that S3 answers with the file's name and media type rather than the blob key's. */
export function presignGet(
  s3: S3Client,
  bucket: string,
  key: string,
  response: ResponseOverrides,
  expiresIn: number,
): Promise<string> {
  const command = new GetObjectCommand({
    Bucket: bucket,
    Key: key,
    ResponseContentDisposition: response.contentDisposition,
    ResponseContentType: response.contentType,
  });
  return getSignedUrl(s3, command, { expiresIn });
}
