import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { choosePartSize, copySourceOf, GIB, partRanges } from './s3Parts.ts';

/** CopyObject copies at most 5 GiB in one request; larger objects are copied part by part. */
export const MAX_COPY_OBJECT_BYTES = 5 * GIB;
/** Parts copied at once: S3 copies server-side, so this bounds request fan-out, not memory. */
const PARALLEL_PARTS = 8;

/**
 * Copies `source` to `target` inside one bucket with UploadPartCopy, several parts at a time. Any
 * failure aborts the multipart upload so no invisible parts are left to pay for.
 */
export async function copyInParts(
  s3: S3Client,
  bucket: string,
  source: string,
  target: string,
  size: number,
  minPartSize: number,
): Promise<void> {
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: target }));
  const uploadId = created.UploadId!;
  try {
    const ranges = partRanges(size, choosePartSize(size, minPartSize));
    const etags = new Array<string>(ranges.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ranges.length; i = next++) {
        const { partNumber, start, length } = ranges[i]!;
        const res = await s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: target,
            UploadId: uploadId,
            PartNumber: partNumber,
            CopySource: copySourceOf(bucket, source),
            CopySourceRange: `bytes=${start}-${start + length - 1}`,
          }),
        );
        etags[i] = res.CopyPartResult!.ETag!;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, ranges.length) }, worker));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: target,
        UploadId: uploadId,
        MultipartUpload: { Parts: ranges.map((r, i) => ({ PartNumber: r.partNumber, ETag: etags[i] })) },
      }),
    );
  } catch (error) {
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId: uploadId }))
      .catch(() => undefined); // the copy's own error is the one worth reporting
    throw error;
  }
}
