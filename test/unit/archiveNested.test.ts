import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type ArchiveLimits, archiveScanner } from '../../functions/core/archive/archiveScanner.ts';
import type { ContentSummary, Finding } from '../../functions/core/model.ts';
import { eicarScanner, secretScanner } from '../../functions/core/scanners.ts';
import { EICAR, fixture, tar, zip } from '../support/archives.ts';

/** Runs one archive pass over `bytes` in chunks of `chunk` bytes, as the scan step would. */
async function inspect(
  bytes: Buffer,
  chunk = 64 * 1024,
  limits: ArchiveLimits = {},
): Promise<{ findings: Finding[]; contents: ContentSummary }> {
  const pass = archiveScanner({ inner: [eicarScanner, secretScanner], ...limits }).start();
  for (let at = 0; at < bytes.length; at += chunk) {
    const pending = pass.update(bytes.subarray(at, at + chunk));
    if (pending) await pending;
  }
  const findings = await pass.finish();
  return { findings, contents: pass.contents?.() ?? {} };
}

const rules = (findings: Finding[]) => findings.map((f) => `${f.rule} ${f.path ?? ''}`.trim());
const AWS_KEY = 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n';

/** Each level a zip holding the next as `level<n>.zip`, the innermost holding `bad.so` deflated. */
function nestedZips(levels: number): Buffer {
  let inner = zip([{ path: 'bad.so', data: `${'x'.repeat(5000)}${EICAR}`, deflate: true }]);
  for (let n = levels - 1; n >= 1; n--)
    inner = zip([{ path: `level${n + 1}.zip`, data: inner, deflate: true }]);
  return inner;
}

describe('zip entries', () => {
  it.each([1, 29, 4096, 64 * 1024])(
    'are scanned stored, deflated, and deflated with a data descriptor (%i-byte chunks)',
    async (chunk) => {
      const bytes = zip([
        { path: 'stored/eicar.com', data: EICAR },
        { path: 'deflated/creds', data: `${'filler '.repeat(2000)}${AWS_KEY}`, deflate: true },
        { path: 'jar-style/eicar.txt', data: `${'y'.repeat(3000)}${EICAR}`, deflate: true, descriptor: true },
        { path: 'after/clean.txt', data: 'fine', deflate: true, descriptor: true },
      ]);

      const { findings, contents } = await inspect(bytes, chunk);

      expect(rules(findings)).toEqual([
        'EICAR-Test-File stored/eicar.com',
        'aws-access-key-id deflated/creds',
        'EICAR-Test-File jar-style/eicar.txt',
      ]);
      expect(contents.archive).toMatchObject({ format: 'zip', entries: 4 });
    },
  );

  it.each(['info-zip.zip', 'info-zip-zip64.zip', 'python-zipfile.zip', 'python-zip64.zip'])(
    'reads every entry of %s, written by a real tool, to its end',
    async (name) => {
      const { findings, contents } = await inspect(fixture(name), 1000);

      expect(findings).toEqual([]);
      expect(contents.archive?.incomplete).toBeUndefined();
    },
  );

  it('refuses a zip with bytes between its entries: what the walk cannot read was not scanned', async () => {
    const good = zip([{ path: 'a.txt', data: 'hello' }]);
    const spliced = Buffer.concat([good.subarray(0, 35), Buffer.from('JUNK'), good.subarray(35)]);

    const { findings } = await inspect(spliced);

    expect(rules(findings)).toEqual(['archive-unreadable']);
    expect(findings[0]!.message).toContain('neither an entry nor the central directory');
  });

  it('refuses an encrypted entry and an unknown compression method instead of calling them clean', async () => {
    const encrypted = zip([{ path: 'secret.bin', data: 'xxxx' }]);
    encrypted.writeUInt16LE(1, 6);
    const bzip2 = zip([{ path: 'packed.bin', data: 'xxxx' }]);
    bzip2.writeUInt16LE(12, 8);

    expect((await inspect(encrypted)).findings[0]!.message).toContain('"secret.bin" is encrypted');
    expect((await inspect(bzip2)).findings[0]!.message).toContain('compression method 12');
  });

  it('checks the names in local headers too, which streaming extractors use', async () => {
    const bytes = zip([{ path: 'aaaa/ok.txt', data: 'x' }]);
    bytes.write('../x/ok.txt', 30, 'latin1');

    expect(rules((await inspect(bytes)).findings)).toEqual(['path-traversal ../x/ok.txt']);
  });
});

describe('archives inside archives', () => {
  it('opens a zip inside a tar.gz and names the finding by its full path', async () => {
    const inner = zip([
      { path: 'readme.txt', data: 'hello', deflate: true },
      { path: 'bad.so', data: `${'z'.repeat(10_000)}${EICAR}`, deflate: true, descriptor: true },
    ]);
    const outer = gzipSync(
      tar([
        { path: 'lib/', type: 'directory' },
        { path: 'lib/inner.zip', data: inner },
        { path: 'lib/app.jar', data: zip([{ path: 'app.properties', data: AWS_KEY, deflate: true }]) },
      ]),
    );

    const { findings, contents } = await inspect(outer, 333);

    expect(rules(findings)).toEqual([
      'EICAR-Test-File lib/inner.zip!/bad.so',
      'aws-access-key-id lib/app.jar!/app.properties',
    ]);
    expect(contents.archive).toMatchObject({ format: 'tar+gzip', entries: 6, nested: 2 });
  });

  it('opens a tar.gz inside a zip inside a tar', async () => {
    const innermost = gzipSync(tar([{ path: 'payload/eicar.com', data: EICAR }]));
    const middle = zip([{ path: 'dist/release.tar.gz', data: innermost }]);
    const outer = tar([{ path: 'bundle.zip', data: middle }]);

    const { findings } = await inspect(outer);

    expect(rules(findings)).toContain('EICAR-Test-File bundle.zip!/dist/release.tar.gz!/payload/eicar.com');
  });

  it('opens archives down to the depth limit and no further, listing what it did not open', async () => {
    const outer = nestedZips(5); // level 1 is the file itself; bad.so sits in level 5

    const deep = await inspect(outer, 64 * 1024, { maxDepth: 4 });
    const limited = await inspect(outer, 64 * 1024, { maxDepth: 3 });

    expect(rules(deep.findings)).toEqual([
      'EICAR-Test-File level2.zip!/level3.zip!/level4.zip!/level5.zip!/bad.so',
    ]);
    expect(deep.contents.archive).toMatchObject({ nested: 4 });
    expect(deep.contents.archive?.unopened).toBeUndefined();
    // The level-5 zip is deflated inside level 4 and not opened: its bytes are scanned whole, where
    // the deflated signature is not visible. Raising the limit is what finds it.
    expect(limited.findings).toEqual([]);
    expect(limited.contents.archive).toMatchObject({
      nested: 3,
      unopened: ['level2.zip!/level3.zip!/level4.zip!/level5.zip'],
    });
  });

  it('defaults to three levels', async () => {
    const { contents } = await inspect(nestedZips(5));

    expect(contents.archive).toMatchObject({
      nested: 3,
      unopened: ['level2.zip!/level3.zip!/level4.zip!/level5.zip'],
    });
  });

  it('stops a bomb inside a zip inside a tar, measured against the uploaded file', async () => {
    const bomb = zip([{ path: 'zeros.bin', data: Buffer.alloc(64 * 1024 * 1024), deflate: true }]);
    const outer = tar([
      { path: 'readme', data: 'hi' },
      { path: 'inner.zip', data: bomb },
    ]);

    const { findings, contents } = await inspect(outer, 64 * 1024, { bombFloorBytes: 1024 * 1024 });

    expect(rules(findings)).toEqual(['decompression-bomb inner.zip']);
    expect(findings[0]!.message).toContain('(inside inner.zip)');
    expect(contents.archive?.incomplete).toBe('stopped at the decompression limit');
  });

  it('refuses a traversal inside a nested archive', async () => {
    const outer = gzipSync(tar([{ path: 'a.zip', data: zip([{ path: '../../etc/cron.d/x', data: '*' }]) }]));

    expect(rules((await inspect(outer)).findings)).toEqual(['path-traversal a.zip!/../../etc/cron.d/x']);
  });

  it('scans a gzip-compressed file inside a tar as the file it decompresses to', async () => {
    const outer = tar([{ path: 'logs/app.log.gz', data: gzipSync(Buffer.from(`started\n${AWS_KEY}`)) }]);

    const { findings } = await inspect(outer);

    expect(rules(findings)).toEqual(['aws-access-key-id logs/app.log.gz']);
    expect(findings[0]!.message).toContain('(in the decompressed data)');
  });
});
