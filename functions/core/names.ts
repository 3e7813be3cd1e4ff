/** The names and limits of the HTTP contract (shared/API.md § Names), checked in one place. */
import { InvalidRequestError, TooLargeError } from './errors.ts';

export const NAMESPACE_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const PACKAGE_PATTERN = NAMESPACE_PATTERN;
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/;
export const METADATA_KEY_PATTERN = /^[a-zA-Z][a-zA-Z0-9._-]{0,63}$/;
export const DIGEST_PATTERN = /^(?:sha256:)?([0-9a-f]{64})$/;

export const LIMITS = {
  namespaceLength: 64,
  packageLength: 128,
  filesPerVersion: 50,
  metadataKeys: 32,
  metadataValueLength: 1024,
  /** 5 TiB, S3's largest object. */
  defaultMaxFileSize: 5 * 1024 ** 4,
} as const;

export const isNamespace = (s: string): boolean =>
  s.length <= LIMITS.namespaceLength && NAMESPACE_PATTERN.test(s);
export const isPackage = (s: string): boolean => s.length <= LIMITS.packageLength && PACKAGE_PATTERN.test(s);
export const isVersion = (s: string): boolean => VERSION_PATTERN.test(s);
export const isStage = (s: string): boolean => STAGE_PATTERN.test(s);
export const isFileName = (s: string): boolean => FILE_NAME_PATTERN.test(s) && !s.includes('..');

/** Accepts `sha256:<hex>` or bare hex; returns the bare lowercase hex or undefined. */
export function parseDigest(s: string): string | undefined {
  return DIGEST_PATTERN.exec(s)?.[1];
}

/** Throws the contract's 400 unless `value` satisfies `check`. */
export function requireName(kind: string, value: string, check: (s: string) => boolean): string {
  if (!check(value)) {
    throw new InvalidRequestError(`invalid ${kind}: ${JSON.stringify(value.slice(0, 300))}`, {
      details: { field: kind },
    });
  }
  return value;
}

export function requireSize(size: number, maxFileSize: number): number {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new InvalidRequestError(`size must be a non-negative integer, got ${size}`);
  }
  if (size > maxFileSize) {
    throw new TooLargeError(`size ${size} exceeds the maximum of ${maxFileSize} bytes`, {
      details: { maxFileSize },
    });
  }
  return size;
}
