import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AdvisorySource, OsvIndex } from '../../core/vulns/osv.ts';
import { indexOf, zipRecords } from '../osvDatabase.ts';

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
export class S3OsvDatabase implements AdvisorySource {
  private loaded: { etag: string; index: OsvIndex } | undefined;
  private checkedAt = 0;
  private loading: Promise<OsvIndex> | undefined;

  constructor(
    private readonly s3: S3Client,
    readonly location: { readonly bucket: string; readonly key: string },
    private readonly options: { readonly checkEveryMs?: number; readonly now?: () => number } = {},
  ) {}

  current(): Promise<OsvIndex> {
    this.loading ??= this.refresh().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async refresh(): Promise<OsvIndex> {
    const now = (this.options.now ?? Date.now)();
    if (this.loaded && now - this.checkedAt < (this.options.checkEveryMs ?? 60_000)) return this.loaded.index;
    const { bucket: Bucket, key: Key } = this.location;
    const head = await this.s3.send(new HeadObjectCommand({ Bucket, Key }));
    this.checkedAt = now;
    if (this.loaded && head.ETag === this.loaded.etag) return this.loaded.index;
    const object = await this.s3.send(new GetObjectCommand({ Bucket, Key, IfMatch: head.ETag }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    const index = indexOf(zipRecords(bytes));
    this.loaded = { etag: object.ETag ?? head.ETag ?? '', index };
    return index;
  }
}
