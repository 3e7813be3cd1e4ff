/** The names and limits of the HTTP contract (shared/API.md § Names), checked in one place. */
import { InvalidRequestError, TooLargeError } from './errors.ts';

export const NAMESPACE_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const PACKAGE_PATTERN = NAMESPACE_PATTERN;
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** One segment of a file name (a name without `/` is a single segment). */
export const FILE_SEGMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/;
/** A file name: 1..16 segments joined by `/` (the per-segment length and `..` are checked by `fileNameProblem`). */
export const FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*(?:\/[A-Za-z0-9][A-Za-z0-9._+-]*){0,15}$/;
export const METADATA_KEY_PATTERN = /^[a-zA-Z][a-zA-Z0-9._-]{0,63}$/;
export const DIGEST_PATTERN = /^(?:sha256:)?([0-9a-f]{64})$/;

export const LIMITS = {
  namespaceLength: 64,
  packageLength: 128,
  filesPerVersion: 1000,
  fileNameLength: 512,
  fileNameSegments: 16,
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

/** Why a file name breaks the rule, as a machine-readable reason; undefined when it is valid. */
export type FileNameProblem =
  | 'tooLong'
  | 'tooManySegments'
  | 'leadingSlash'
  | 'trailingSlash'
  | 'backslash'
  | 'nul'
  | 'emptySegment'
  | 'dotSegment'
  | 'invalidSegment';

export function fileNameProblem(name: string): FileNameProblem | undefined {
  if (name.length > LIMITS.fileNameLength) return 'tooLong';
  if (name.includes('\0')) return 'nul';
  if (name.includes('\\')) return 'backslash';
  if (name.startsWith('/')) return 'leadingSlash';
  if (name.endsWith('/') && name.length > 0) return 'trailingSlash';
  const segments = name.split('/');
  if (segments.length > LIMITS.fileNameSegments) return 'tooManySegments';
  for (const segment of segments) {
    if (segment === '') return 'emptySegment';
    if (segment === '.' || segment === '..') return 'dotSegment';
    if (!FILE_SEGMENT_PATTERN.test(segment) || segment.includes('..')) return 'invalidSegment';
  }
  return undefined;
}

export const isFileName = (s: string): boolean => fileNameProblem(s) === undefined;

/**
 * The first pair of names that cannot both be files of one tree: the same path twice, or a path
 * that another file uses as a directory (`dist` and `dist/app.js`). Case-sensitive, like the names.
 */
export function fileNameCollision(names: readonly string[]): { name: string; with: string } | undefined {
  const files = new Set<string>();
  for (const name of names) {
    if (files.has(name)) return { name, with: name };
    files.add(name);
  }
  for (const name of names) {
    const segments = name.split('/');
    for (let i = 1; i < segments.length; i++) {
      const dir = segments.slice(0, i).join('/');
      if (files.has(dir)) return { name, with: dir };
    }
  }
  return undefined;
}

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
