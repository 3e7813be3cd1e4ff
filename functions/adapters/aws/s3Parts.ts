/** Part arithmetic for S3 multipart uploads and copies, and S3's "absent" errors. */
export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

/** S3's limits: at most 10,000 parts of 5 MiB..5 GiB (the last part may be smaller). */
const MAX_PARTS = 10_000;
const MAX_PART_BYTES = 5 * GIB;
/**
 * We aim well below S3's 10,000 parts: every part is a presigned URL in the create-upload response,
 * and 1,000 of them keep that response far under API Gateway's and Lambda's 6 MB payload limit.
 */
const TARGET_PARTS = 1_000;

/** A part size, in whole MiB, that covers `size` in at most ~1,000 parts (1,024 at 5 TiB). */
export function choosePartSize(size: number, minPartSize: number): number {
  const wanted = Math.ceil(size / TARGET_PARTS / MIB) * MIB;
  const partSize = Math.min(Math.max(wanted, Math.ceil(minPartSize / MIB) * MIB), MAX_PART_BYTES);
  if (Math.ceil(size / partSize) > MAX_PARTS) {
    throw new RangeError(`${size} bytes do not fit in ${MAX_PARTS} parts of at most 5 GiB`);
  }
  return partSize;
}

export interface PartRange {
  readonly partNumber: number;
  /** First byte of the part. */
  readonly start: number;
  readonly length: number;
}

/** Splits `size` bytes into consecutive parts of `partSize` (the last one shorter). */
export function partRanges(size: number, partSize: number): PartRange[] {
  const count = Math.max(1, Math.ceil(size / partSize));
  return Array.from({ length: count }, (_, i) => ({
    partNumber: i + 1,
    start: i * partSize,
    length: Math.min(partSize, size - i * partSize),
  }));
}

/** True for S3's ways of saying "no such object / upload". */
export function isMissing(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (['NoSuchKey', 'NotFound', 'NoSuchUpload'].includes(error.name)) return true;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}

/** The `CopySource` of a key: bucket/key with the key URL-encoded but its slashes kept. */
export const copySourceOf = (bucket: string, key: string): string =>
  `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
