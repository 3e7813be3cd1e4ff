import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tar, zip } from '../support/archives.ts';
import { type Clamd, startClamd, TEST_PATTERN } from '../support/clamd.ts';
import { call, publish, settled } from '../support/client.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

/**
 * The scan engines through the API, on both backends: ClamAV (a real clamd with the test's own
 * signatures) and OSV matching (the fixture database of real advisories), configured as an operator
 * would with ARCA_CLAMD and ARCA_OSV_DB.
 */
describeForEachBackend('scan engines: ClamAV and OSV', (kind) => {
  let clamd: Clamd;
  let s: TestServer;
  let n = 0;
  const versionPath = (v: string) => `/v1/packages/engines/app/versions/${v}`;
  const release = async (files: Record<string, Buffer>) => {
    const version = `1.0.${n++}`;
    const res = await publish(s.url, { namespace: 'engines', version, files });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (await settled(s.url, versionPath(version))).body;
  };

  beforeAll(async () => {
    clamd = await startClamd();
    s = await startTestServer(kind, {
      scanEnv: { ARCA_CLAMD: clamd.address, ARCA_OSV_DB: 'test/fixtures/osv/db' },
    });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await clamd?.stop();
  });

  it('quarantines a file matching a ClamAV signature inside a zip inside a tar, naming signature and path', async () => {
    const infected = Buffer.from(`payload ${TEST_PATTERN}`);
    const bundle = tar([
      { path: 'lib/inner.zip', data: zip([{ path: 'bad.so', data: infected, deflate: true }]) },
    ]);

    const version = await release({ 'outer.tar': bundle });

    expect(version.state).toBe('quarantined');
    expect(version.files[0].scan.findings).toEqual([
      {
        scanner: 'clamav',
        rule: 'Arca.Test.Pattern.UNOFFICIAL',
        message: 'ClamAV found Arca.Test.Pattern.UNOFFICIAL',
        path: 'lib/inner.zip!/bad.so',
      },
    ]);
    const download = await call(s.url, 'GET', `${versionPath(version.version)}/files/outer.tar`);
    expect(download.status).toBe(409);
  });

  it('lists the known vulnerabilities of an SBOM inside an archive, keeps the version available, and names every engine', async () => {
    const sbom = readFileSync('test/fixtures/sbom/syft-2.3.spdx.json');

    const version = await release({
      'service.tar.gz': gzipSync(tar([{ path: 'sbom.spdx.json', data: sbom }])),
    });

    expect(version.state).toBe('available');
    const { scan } = version.files[0];
    expect(scan.findings).toEqual([]);
    expect(scan.vulnerabilities.findings.map((v: { id: string }) => v.id)).toEqual(['GHSA-57j2-w4cx-62h2']);
    expect(scan.engines.map((e: { name: string }) => e.name)).toEqual([
      'digest',
      'signature',
      'secrets',
      'archive',
      'clamav',
      'sbom',
      'osv',
    ]);
  });
});
