import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tar, zip } from '../support/archives.ts';
import { type Clamd, startClamd, TEST_PATTERN } from '../support/clamd.ts';
import { type ApiAnswer, call, publish, settled } from '../support/client.ts';
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

  it('shows scan error naming clamav while clamd is unreachable, never clean, and the retry records the real verdict', async () => {
    const version = `1.0.${n++}`;
    const files = { 'clean.txt': Buffer.from('nothing to see'), 'bad.bin': Buffer.from(TEST_PATTERN) };
    await clamd.pause();
    let failing: ApiAnswer;
    try {
      const res = await publish(s.url, { namespace: 'engines', version, files });
      expect(res.status, JSON.stringify(res.body)).toBe(200);

      failing = await until(s.url, versionPath(version), (v) =>
        v.files.every((f: { scan: { status: string } }) => f.scan.status === 'error'),
      );
    } finally {
      await clamd.resume();
    }

    expect(failing.body.state).toBe('pending');
    for (const file of failing.body.files) {
      expect(file.state).toBe('pending');
      expect(file.scan.findings).toEqual([]);
      expect(file.scan.error.engine).toBe('clamav');
      expect(file.scan.error.message).toContain('unreachable');
    }
    const refused = await call(s.url, 'GET', `${versionPath(version)}/files/clean.txt`);
    expect(refused.status).toBe(409);

    // Each file is retried on its own: the version is quarantined as soon as one is.
    const settledVersion = (
      await until(s.url, versionPath(version), (v) =>
        v.files.every((f: { state: string }) => f.state !== 'pending'),
      )
    ).body;
    expect(settledVersion.state).toBe('quarantined');
    const [clean, bad] = settledVersion.files;
    expect(clean).toMatchObject({
      name: 'clean.txt',
      state: 'available',
      scan: { status: 'clean', findings: [] },
    });
    expect(bad).toMatchObject({ name: 'bad.bin', state: 'quarantined', scan: { status: 'infected' } });
    expect(bad.scan.findings.map((f: { rule: string }) => f.rule)).toEqual(['Arca.Test.Pattern.UNOFFICIAL']);
    for (const file of settledVersion.files) expect(file.scan.error).toBeUndefined();
  });

  it('matches an SBOM attached as an attestation against the advisory database, like a published one', async () => {
    const version = await release({ 'app.bin': Buffer.from('a release without an SBOM') });
    const digest = version.files[0].sha256;
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'app.bin', digest: { sha256: digest } }],
      predicateType: 'https://spdx.dev/Document',
      predicate: JSON.parse(readFileSync('test/fixtures/sbom/syft-2.3.spdx.json', 'utf8')),
    };
    const envelope = {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      signatures: [{ keyid: 'ci', sig: Buffer.from('unsigned').toString('base64') }],
    };

    const attached = await call(s.url, 'POST', `${versionPath(version.version)}/attestations`, envelope);

    expect(attached.status, JSON.stringify(attached.body)).toBe(201);
    expect(attached.body.sbom.format).toBe('SPDX');
    expect(attached.body.sbom.vulnerabilities.findings.map((v: { id: string }) => v.id)).toEqual([
      'GHSA-57j2-w4cx-62h2',
    ]);
    const listed = await call(s.url, 'GET', `${versionPath(version.version)}/attestations`);
    const publisher = listed.body.items.find((a: { id: string }) => a.id === attached.body.id);
    expect(publisher.sbom).toEqual(attached.body.sbom);
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

/** Polls a version until `done` holds of it (the scan queue retries on its own schedule). */
async function until(
  base: string,
  path: string,
  done: (version: ApiAnswer['body']) => boolean,
): Promise<ApiAnswer> {
  for (let i = 0; i < 600; i++) {
    const v = await call(base, 'GET', path);
    if (v.status === 200 && done(v.body)) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${path} never reached the expected state`);
}
