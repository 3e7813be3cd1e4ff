import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors.ts';
import { parseDuration, parseMetadata, parseVersionRef } from '../../cli/refs.ts';

describe('parseVersionRef', () => {
  it('splits <ns>/<pkg>@<version> at the last @', () => {
    expect(parseVersionRef('payments/api-server@1.4.2+build.7')).toEqual({
      namespace: 'payments',
      package: 'api-server',
      version: '1.4.2+build.7',
    });
  });

  it.each(['payments/api-server', 'payments@1', 'Payments/api@1', 'a/b/c@1', 'a/b@', 'a/b@-x'])(
    'refuses %s as a usage error',
    (text) => {
      expect(() => parseVersionRef(text)).toThrow(UsageError);
    },
  );
});

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86400],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it('refuses a duration it cannot read', () => {
    expect(() => parseDuration('15 minutes')).toThrow(UsageError);
  });
});

describe('parseMetadata', () => {
  it('keeps everything after the first = as the value', () => {
    expect(parseMetadata(['url=https://ci/x?a=b', 'commit=9f1c'])).toEqual({
      url: 'https://ci/x?a=b',
      commit: '9f1c',
    });
  });

  it('refuses a pair without a key or a key given twice', () => {
    expect(() => parseMetadata(['=v'])).toThrow(UsageError);
    expect(() => parseMetadata(['k=1', 'k=2'])).toThrow(UsageError);
  });
});
