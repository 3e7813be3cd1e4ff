import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('scanning a nested archive', () => {
  it('keeps memory flat: a 1 GiB tar holding a zip holding a tar.gz peaks under 256 MiB of RSS', async () => {
    // A child process of its own, so the peak measured is the scan's and not the test runner's.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/support/nestedArchiveScan.ts'], {
      maxBuffer: 16 * 2 ** 20,
    });
    const result = JSON.parse(stdout) as {
      bytes: number;
      findings: { rule: string; path?: string }[];
      contents: { archive: { nested: number; incomplete?: string } };
      peakRssBytes: number;
    };

    expect(result.bytes).toBeGreaterThan(2 ** 30);
    // Read to the end, three levels down: the signature sits in the last file of the innermost archive.
    expect(result.findings.map((f) => `${f.rule} ${f.path}`)).toEqual([
      'EICAR-Test-File lib/bundle.zip!/nested/release.tar.gz!/payload/eicar.com',
    ]);
    expect(result.contents.archive).toMatchObject({ nested: 2 });
    expect(result.contents.archive.incomplete).toBeUndefined();
    expect(result.peakRssBytes).toBeLessThan(256 * 2 ** 20);
  }, 120_000);
});
