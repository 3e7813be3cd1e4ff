import { describe, expect, it } from 'vitest';
import {
  fileNameCollision,
  fileNameProblem,
  isFileName,
  isNamespace,
  isPackage,
  isStage,
  isVersion,
  parseDigest,
} from '../../functions/core/names.ts';

describe('names', () => {
  it.each(['payments', 'a', 'api-server', 'a.b_c-d', 'x1'])('accepts the namespace %s', (n) =>
    expect(isNamespace(n)).toBe(true),
  );
  it.each(['', 'Payments', '-a', 'a-', 'a..b', 'a/b', 'a b', 'a'.repeat(65)])(
    'refuses the namespace %j',
    (n) => expect(isNamespace(n)).toBe(false),
  );
  it('allows packages up to 128 characters', () => {
    expect(isPackage('a'.repeat(128))).toBe(true);
    expect(isPackage('a'.repeat(129))).toBe(false);
  });
  it.each(['1.4.2', '2026.11.27-abc123', 'v1+build.7', 'A'])('accepts the version %s', (v) =>
    expect(isVersion(v)).toBe(true),
  );
  it.each(['', '.1', '-1', '1/2', '1 2', `1${'a'.repeat(128)}`])('refuses the version %j', (v) =>
    expect(isVersion(v)).toBe(false),
  );
  it.each(['prod', 'staging', 'dev-2'])('accepts the stage %s', (s) => expect(isStage(s)).toBe(true));
  it.each(['Prod', '1prod', 'a'.repeat(33), 'pr_od'])('refuses the stage %j', (s) =>
    expect(isStage(s)).toBe(false),
  );
  it.each([
    'api.tar.gz',
    'sbom.cdx.json',
    'a+b-c_d',
    'dist/app.js',
    'dist/js/vendor/react.min.js',
    Array.from({ length: 16 }, () => 'd').join('/'),
    `${'a'.repeat(255)}/${'b'.repeat(255)}`,
  ])('accepts the file name %s', (f) => expect(isFileName(f)).toBe(true));
  it.each([
    ['..', 'dotSegment'],
    ['a..b', 'invalidSegment'],
    ['.hidden', 'invalidSegment'],
    ['dist/../etc', 'dotSegment'],
    ['./dist/app.js', 'dotSegment'],
    ['dist/./app.js', 'dotSegment'],
    ['dist//app.js', 'emptySegment'],
    ['/etc/passwd', 'leadingSlash'],
    ['dist/', 'trailingSlash'],
    ['dist\\app.js', 'backslash'],
    ['a\0b', 'nul'],
    [Array.from({ length: 17 }, () => 'd').join('/'), 'tooManySegments'],
    [`${'a'.repeat(256)}/${'b'.repeat(256)}`, 'tooLong'],
    [`a${'b'.repeat(255)}`, 'invalidSegment'],
    ['', 'emptySegment'],
  ])('refuses the file name %j (%s)', (f, reason) => {
    expect(isFileName(f)).toBe(false);
    expect(fileNameProblem(f)).toBe(reason);
  });
  it('finds names that cannot share one tree: the same path twice, or a file used as a directory', () => {
    expect(fileNameCollision(['a/b', 'a/c', 'b'])).toBeUndefined();
    expect(fileNameCollision(['a/b', 'A/b'])).toBeUndefined();
    expect(fileNameCollision(['a/b', 'c', 'a/b'])).toEqual({ name: 'a/b', with: 'a/b' });
    expect(fileNameCollision(['dist', 'dist/app.js'])).toEqual({ name: 'dist/app.js', with: 'dist' });
  });
  it('parses a digest with or without the sha256: prefix and refuses anything else', () => {
    const hex = 'a'.repeat(64);
    expect(parseDigest(hex)).toBe(hex);
    expect(parseDigest(`sha256:${hex}`)).toBe(hex);
    expect(parseDigest(hex.toUpperCase())).toBeUndefined();
    expect(parseDigest(`sha512:${hex}`)).toBeUndefined();
    expect(parseDigest(hex.slice(1))).toBeUndefined();
  });
});
