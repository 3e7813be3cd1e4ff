import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { type IndexTableLayout, isIndexTableLayout } from './constructs/indexTable.ts';
import { BlobEncryption } from './constructs/storage.ts';

/**
 * Parsers of the app's context values (`-c key=value`, or cdk.json): each refuses what the stack
 * cannot use with the key's name, so a typo fails `cdk synth`, never the deploy.
 */

export const optional = <T>(value: string | undefined, make: (value: string) => T): T | undefined =>
  value === undefined ? undefined : make(value);

export function parseNumber(key: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`context '${key}' must be a number, got '${value}'`);
  return n;
}

const STORAGE_CLASSES: Record<string, s3.StorageClass> = {
  STANDARD: new s3.StorageClass('STANDARD'),
  STANDARD_IA: s3.StorageClass.INFREQUENT_ACCESS,
  ONEZONE_IA: s3.StorageClass.ONE_ZONE_INFREQUENT_ACCESS,
  INTELLIGENT_TIERING: s3.StorageClass.INTELLIGENT_TIERING,
  GLACIER_IR: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
};

export function parseStorageClass(value: string | undefined): s3.StorageClass | undefined {
  if (value === undefined) return undefined;
  const storageClass = STORAGE_CLASSES[value];
  if (!storageClass)
    throw new Error(
      `context 'replicaStorageClass' must be one of ${Object.keys(STORAGE_CLASSES).join(', ')}`,
    );
  return storageClass;
}

export function parsePriceClass(value: string | undefined): cloudfront.PriceClass | undefined {
  if (value === undefined) return undefined;
  const classes = Object.values(cloudfront.PriceClass) as string[];
  if (!classes.includes(value)) throw new Error(`context 'priceClass' must be one of ${classes.join(', ')}`);
  return value as cloudfront.PriceClass;
}

export function parseRetention(days: number | undefined): logs.RetentionDays | undefined {
  if (days === undefined) return undefined;
  if (!(Object.values(logs.RetentionDays) as unknown[]).includes(days))
    throw new Error(
      `context 'logRetentionDays' must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, …), got ${days}`,
    );
  return days as logs.RetentionDays;
}

/** `a,b` (as `-c key=a,b` gives it), `["a","b"]` (a JSON string), or a list from cdk.json. */
export function parseList(key: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let items: unknown = value;
  if (typeof value === 'string') {
    const text = value.trim();
    items = text.startsWith('[') ? JSON.parse(text) : text.split(',');
  }
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string'))
    throw new Error(`context '${key}' must be a comma-separated string or a list of strings`);
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

export function parseEncryption(value: string | undefined): BlobEncryption {
  if (value === undefined) return BlobEncryption.S3_MANAGED;
  if (value === BlobEncryption.S3_MANAGED || value === BlobEncryption.KMS) return value;
  throw new Error(`context 'encryption' must be S3_MANAGED or KMS, got '${value}'`);
}

export function parseIndexLayout(value: string | undefined): IndexTableLayout | undefined {
  if (value === undefined) return undefined;
  if (isIndexTableLayout(value)) return value;
  throw new Error(
    `context 'indexLayout' must be minimal, all or migrate-1 … migrate-4 (docs/deploy.md § 8), got '${value}'`,
  );
}
