import { describe, expect, it } from 'vitest';
import {
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
  it.each(['api.tar.gz', 'sbom.cdx.json', 'a+b-c_d'])('accepts the file name %s', (f) =>
    expect(isFileName(f)).toBe(true),
  );
  it.each(['..', 'a..b', '.hidden', 'dir/file', 'a\0b', `a${'b'.repeat(255)}`])(
    'refuses the file name %j',
    (f) => expect(isFileName(f)).toBe(false),
  );
  it('parses a digest with or without the sha256: prefix and refuses anything else', () => {
    const hex = 'a'.repeat(64);
    expect(parseDigest(hex)).toBe(hex);
    expect(parseDigest(`sha256:${hex}`)).toBe(hex);
    expect(parseDigest(hex.toUpperCase())).toBeUndefined();
    expect(parseDigest(`sha512:${hex}`)).toBeUndefined();
    expect(parseDigest(hex.slice(1))).toBeUndefined();
  });
});
