import { describe, expect, it } from 'vitest';
import { eicarScanner, secretScanner } from '../../functions/core/scanners.ts';
import { EICAR } from '../support/archives.ts';

describe('signature passes across chunk boundaries', () => {
  const key = 'aws_access_key_id=AKIAIOSFODNN7EXAMPLE\n';
  const data = Buffer.concat([
    Buffer.alloc(70_000, 0x61),
    Buffer.from(EICAR),
    Buffer.alloc(5_000, 0x62),
    Buffer.from(key),
    Buffer.alloc(3, 0x63),
  ]);
  it.each([1, 7, 67, 68, 100, 4096, 65_536, 70_010, 75_090, data.length])(
    'finds both in %i-byte chunks',
    (size) => {
      const passes = [eicarScanner.start(), secretScanner.start()];
      for (let at = 0; at < data.length; at += size)
        for (const p of passes) p.update(data.subarray(at, at + size));
      expect(passes.flatMap((p) => p.finish()).map((f) => f.rule)).toEqual([
        'EICAR-Test-File',
        'aws-access-key-id',
      ]);
    },
  );
  it('does not take a key cut short by the end of the data for one', () => {
    const pass = secretScanner.start();
    pass.update(Buffer.concat([Buffer.alloc(70_000), Buffer.from('AKIAIOSFODNN7EXAMP')]));
    expect(pass.finish()).toEqual([]);
  });
});
