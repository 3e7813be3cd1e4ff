import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { OsvIndex } from '../../core/vulns/osv.ts';
import { indexOf, ReloadingAdvisorySource, type ReloadOptions, zipRecords } from '../osvDatabase.ts';

/** `s3://bucket/key.zip`, as ARCA_OSV_DB takes an advisory database kept in S3. */
export function parseS3Location(text: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(text);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

/**
 * An OSV advisory database kept in S3 as one zip of OSV JSON (`ARCA_OSV_DB=s3://bucket/key.zip`),
 * for the scan Lambda, which has no disk of its own to keep one on: re-read when the object's ETag
 * changes, checked at most every `checkEveryMs`. The operator (or a scheduled job) replaces the
 * object to update it; every warm Lambda picks the new one up on its next check.
 */
export class S3OsvDatabase extends ReloadingAdvisorySource {
  constructor(
    private readonly s3: S3Client,
    readonly location: { readonly bucket: string; readonly key: string },
    options: ReloadOptions = {},
  ) {
    super(options);
  }

  /** The object's ETag. */
  protected async stamp(): Promise<string> {
    const { bucket: Bucket, key: Key } = this.location;
    return (await this.s3.send(new HeadObjectCommand({ Bucket, Key }))).ETag ?? '';
  }

  /** The object with that ETag (a replacement since answers 412, and the next check loads it). */
  protected async load(etag: string): Promise<OsvIndex> {
    const { bucket: Bucket, key: Key } = this.location;
    const object = await this.s3.send(
      new GetObjectCommand({ Bucket, Key, ...(etag ? { IfMatch: etag } : {}) }),
    );
    return indexOf(zipRecords(Buffer.from(await object.Body!.transformToByteArray())));
  }
}
