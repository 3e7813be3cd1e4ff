import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type ArchiveLimits, archiveScanner } from '../../functions/core/archive/archiveScanner.ts';
import type { ContentSummary, Finding } from '../../functions/core/model.ts';
import { recogniseSbom } from '../../functions/core/sbom.ts';
import { eicarScanner, secretScanner } from '../../functions/core/scanners.ts';
import { tar, zip } from '../support/archives.ts';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const AWS_KEY = 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n';

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

describe('archiveScanner', () => {
  const release = tar([
    { path: 'app/', type: 'directory' },
    { path: 'app/bin/server', data: 'binary'.repeat(1000) },
    { path: 'app/sbom.cdx.json', data: '{"bomFormat":"CycloneDX","specVersion":"1.5"}' },
    { path: 'app/current', type: 'symlink', linkTarget: 'bin/server' },
    { path: 'app/lib/up', type: 'symlink', linkTarget: '../bin/server' },
  ]);

  it.each([1, 7, 511, 513, 64 * 1024])('lists a tar.gz fed in %i-byte chunks', async (chunk) => {
    const { findings, contents } = await inspect(gzipSync(release), chunk);

    expect(findings).toEqual([]);
    expect(contents.archive).toEqual({
      format: 'tar+gzip',
      entries: 5,
      expandedBytes: 6000 + '{"bomFormat":"CycloneDX","specVersion":"1.5"}'.length,
      sboms: ['app/sbom.cdx.json'],
    });
  });

  it('lists an uncompressed tar without scanning its files twice', async () => {
    const { findings, contents } = await inspect(release);

    expect(findings).toEqual([]);
    expect(contents.archive).toMatchObject({ format: 'tar', entries: 5 });
  });

  it('finds malware and secrets inside a compressed archive, naming the entry', async () => {
    const bytes = gzipSync(
      tar([
        { path: 'readme.txt', data: 'hello' },
        { path: 'payload/eicar.com', data: EICAR },
        { path: 'config/credentials', data: AWS_KEY },
      ]),
    );

    const { findings } = await inspect(bytes, 100);

    expect(rules(findings)).toEqual([
      'EICAR-Test-File payload/eicar.com',
      'aws-access-key-id config/credentials',
    ]);
    expect(findings[0]).toMatchObject({ scanner: 'signature', path: 'payload/eicar.com' });
  });

  it('refuses names that climb out of the extraction directory, long names included', async () => {
    const deep = `${'d/'.repeat(80)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../etc/cron.d/x`;
    const { findings } = await inspect(
      tar([
        { path: '../outside', data: 'x' },
        { path: '/etc/passwd', data: 'x' },
        { path: 'a/./b', data: 'fine' },
        // Even one that resolves inside: were `a` a symlink, `a/..` would be wherever it points.
        { path: 'a/../b', data: 'x' },
        { path: 'C:\\Windows\\x.dll', data: 'x' },
        { path: deep, data: 'x', longName: 'pax' },
        { path: `gnu/${'n'.repeat(120)}/../../../x`, data: 'x', longName: 'gnu' },
      ]),
    );

    expect(rules(findings)).toEqual([
      'path-traversal ../outside',
      'path-traversal /etc/passwd',
      'path-traversal a/../b',
      'path-traversal C:\\Windows\\x.dll',
      `path-traversal ${deep}`,
      `path-traversal gnu/${'n'.repeat(120)}/../../../x`,
    ]);
  });

  it('refuses links that point outside the tree, and keeps the ones that stay inside', async () => {
    const { findings } = await inspect(
      tar([
        { path: 'bin/ok', type: 'symlink', linkTarget: '../lib/libx.so' },
        { path: 'bin/escape', type: 'symlink', linkTarget: '../../etc/shadow' },
        { path: 'bin/absolute', type: 'symlink', linkTarget: '/etc/shadow' },
        { path: 'bin/hard', type: 'hardlink', linkTarget: '../secret' },
      ]),
    );

    expect(rules(findings)).toEqual([
      'link-escape bin/escape',
      'link-escape bin/absolute',
      'link-escape bin/hard',
    ]);
  });

  it('stops inflating a decompression bomb at the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));

    const { findings, contents } = await inspect(bomb, 64 * 1024, { bombFloorBytes: 1024 * 1024 });

    expect(rules(findings)).toEqual(['decompression-bomb']);
    expect(contents.archive?.incomplete).toBe('stopped at the decompression limit');
  });

  it('scans a single gzip-compressed file inflated', async () => {
    const { findings, contents } = await inspect(gzipSync(Buffer.from(`config\n${AWS_KEY}`)));

    expect(rules(findings)).toEqual(['aws-access-key-id']);
    expect(findings[0]!.message).toContain('(in the decompressed data)');
    expect(contents.archive).toMatchObject({ format: 'gzip', entries: 1, expandedBytes: 7 + AWS_KEY.length });
  });

  it('quarantines a corrupt gzip or a truncated tar with a finding that says why (defect: an archive read only in part was called clean)', async () => {
    const corrupt = gzipSync(release);
    corrupt.fill(0x41, 20, 60);
    const truncated = release.subarray(0, 1500);

    const a = await inspect(corrupt);
    const b = await inspect(truncated);

    expect(rules(a.findings)).toEqual(['archive-unreadable']);
    expect(a.findings[0]!.message).toMatch(/^the archive could not be read to its end: invalid gzip data/);
    expect(a.contents.archive?.incomplete).toMatch(/^invalid gzip data/);
    expect(b.findings).toEqual([
      {
        scanner: 'archive',
        rule: 'archive-unreadable',
        message:
          'the archive could not be read to its end: the archive ends 5524 bytes short of the end of the data of "app/bin/server"',
      },
    ]);
    expect(b.contents.archive).toMatchObject({ format: 'tar', entries: 2 });
  });

  it('quarantines a tar.gz whose later headers are garbage, naming the bad checksum', async () => {
    const damaged = Buffer.from(release);
    damaged.fill(0x41, 7168, 7168 + 512); // the header of app/sbom.cdx.json

    const { findings, contents } = await inspect(gzipSync(damaged));

    expect(rules(findings)).toEqual(['archive-unreadable']);
    expect(contents.archive).toMatchObject({ entries: 2, incomplete: 'a header block has a bad checksum' });
  });

  it('reports an unreadable archive even past the findings cap', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => ({ path: `../k${i}`, data: 'x' }));
    const cut = tar(keys).subarray(0, 24 * 1024 + 256); // inside the last header

    const { findings } = await inspect(cut);

    expect(findings).toHaveLength(21);
    expect(findings.at(-1)!.rule).toBe('archive-unreadable');
  });

  it('accepts what real tools write at the end of an archive: one zero block or none, zeros after a gzip stream', async () => {
    const oneZeroBlock = release.subarray(0, release.length - 512);
    const noEndMarker = release.subarray(0, release.length - 1024);
    const paddedGzip = Buffer.concat([gzipSync(release), Buffer.alloc(10_000)]);

    for (const archive of [oneZeroBlock, noEndMarker, gzipSync(noEndMarker), paddedGzip]) {
      const { findings, contents } = await inspect(archive);
      expect(findings).toEqual([]);
      expect(contents.archive?.entries).toBe(5);
      expect(contents.archive?.incomplete).toBeUndefined();
    }
  });

  it('accepts a zip with bytes appended after its end record, as unzip and Python read it', async () => {
    const bytes = Buffer.concat([zip([{ path: 'a.txt', data: 'hello' }]), Buffer.from('signature block')]);

    const { findings, contents } = await inspect(bytes);

    expect(findings).toEqual([]);
    expect(contents.archive).toMatchObject({ format: 'zip', entries: 1 });
  });

  it('stops counting past the entry limit', async () => {
    const many = tar(Array.from({ length: 12 }, (_, i) => ({ path: `f${i}`, data: 'x' })));

    const { findings, contents } = await inspect(many, 4096, { maxEntries: 10 });

    expect(rules(findings)).toEqual(['too-many-entries']);
    expect(contents.archive).toMatchObject({ entries: 11, incomplete: 'stopped after 10 entries' });
  });

  it('lists a zip from its central directory: names, SBOMs, declared sizes', async () => {
    const bytes = zip([
      { path: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' },
      { path: 'bom.json', data: '{}' },
      { path: '../../evil.sh', data: 'rm -rf /' },
    ]);

    const { findings, contents } = await inspect(bytes, 13);

    expect(rules(findings)).toEqual(['path-traversal ../../evil.sh']);
    expect(contents.archive).toEqual({
      format: 'zip',
      entries: 3,
      expandedBytes: 22 + 2 + 8,
      sboms: ['bom.json'],
    });
  });

  it('refuses zip bombs: overlapping entries and declared sizes far beyond the file', async () => {
    const overlapping = zip([
      { path: 'a', data: 'x'.repeat(100) },
      { path: 'b', sameDataAs: 0 },
    ]);
    const lying = zip([{ path: 'huge', data: 'x', declaredSize: 4_000_000_000 }]);

    expect(rules((await inspect(overlapping)).findings)).toEqual(['overlapping-entries b']);
    expect(rules((await inspect(lying)).findings)).toEqual(['decompression-bomb']);
  });

  it('quarantines a zip whose directory lies beyond the tail it keeps, saying so', async () => {
    const big = zip(Array.from({ length: 200 }, (_, i) => ({ path: `file-${i}.txt`, data: 'x'.repeat(50) })));

    const { findings, contents } = await inspect(big, 1000, { zipTailBytes: 2000 });

    expect(rules(findings)).toEqual(['archive-unreadable']);
    expect(contents.archive?.incomplete).toMatch(
      /^the central directory is larger than the \d+ bytes of the file's end kept to read it$/,
    );
  });

  it('leaves anything that is not an archive alone', async () => {
    const { findings, contents } = await inspect(Buffer.from('just some text, not an archive'));

    expect(findings).toEqual([]);
    expect(contents).toEqual({});
  });

  it('leaves alone files that only resemble an archive in their first bytes', async () => {
    const notGzip = Buffer.from([0x1f, 0x8b, 0x07, 0, 1, 2, 3]);
    const notZip = Buffer.from('PK is how this note starts, not a zip');
    const notTar = Buffer.from(release.subarray(0, 512));
    notTar[0] = 0x62; // the header's checksum no longer holds

    for (const bytes of [notGzip, notZip, Buffer.concat([notTar, Buffer.alloc(2048, 0x41)])]) {
      const { findings, contents } = await inspect(bytes);
      expect(findings).toEqual([]);
      expect(contents).toEqual({});
    }
  });
});

describe('recogniseSbom', () => {
  it.each([
    ['{ "bomFormat": "CycloneDX", "specVersion": "1.6", "components": [] }', 'CycloneDX', '1.6'],
    ['{"spdxVersion":"SPDX-2.3","name":"app"}', 'SPDX', '2.3'],
    [
      '<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">',
      'CycloneDX',
      '1.4',
    ],
    ['SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\n', 'SPDX', '2.2'],
  ])('recognises %s', (text, format, specVersion) => {
    expect(recogniseSbom(text)).toEqual({ format, specVersion });
  });

  it('recognises nothing in ordinary JSON', () => {
    expect(recogniseSbom('{"name":"app","version":"1.0.0"}')).toBeUndefined();
  });
});
