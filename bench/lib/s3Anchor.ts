import { createReadStream } from 'node:fs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Moto } from './moto.ts';

/**
 * The raw-S3 anchors on moto: a PutObject with its sha256 checksum (what a presigned PUT asks S3 to
 * verify) and the SDK's own multipart upload. Arca on moto cannot beat these; the ratio says how
 * much the API, index and scan cost on top.
 */
export class S3Anchor {
  private constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  static async create(moto: Moto): Promise<S3Anchor> {
    const s3 = new S3Client({
      endpoint: moto.endpoint,
      region: moto.env['AWS_REGION'],
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const bucket = 'arca-bench-anchor';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return new S3Anchor(s3, bucket);
  }

  async putObject(key: string, data: Buffer, sha256: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: data,
        ContentLength: data.length,
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
      }),
    );
  }

  async multipart(key: string, path: string, partSize: number, partsInFlight: number): Promise<void> {
    await new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: createReadStream(path, { highWaterMark: 1 << 20 }) },
      partSize,
      queueSize: partsInFlight,
    }).done();
  }

  close(): void {
    this.s3.destroy();
  }
}
