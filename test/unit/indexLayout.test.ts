import { describe, expect, it } from 'vitest';
import { INDEX_NAMES, indexLayout } from '../../functions/config/resources.ts';

describe('indexLayout (ARCA_INDEX_LAYOUT)', () => {
  it('queries the minimal GSIs unless told the table has the ALL-projected ones', () => {
    expect(INDEX_NAMES[indexLayout(undefined)]).toEqual({ gsi1: 'gsi1k', gsi2: 'gsi2k' });
    expect(INDEX_NAMES[indexLayout('')]).toEqual({ gsi1: 'gsi1k', gsi2: 'gsi2k' });
    expect(INDEX_NAMES[indexLayout('minimal')]).toEqual({ gsi1: 'gsi1k', gsi2: 'gsi2k' });
    expect(INDEX_NAMES[indexLayout('all')]).toEqual({ gsi1: 'gsi1', gsi2: 'gsi2' });
  });

  it('refuses any other value at start-up instead of querying an index that is not there', () => {
    for (const value of ['ALL', 'keys-only', 'migrate-3'])
      expect(() => indexLayout(value)).toThrow(/ARCA_INDEX_LAYOUT/);
  });
});
