import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OsvDatabaseFiles } from '../../functions/adapters/osvDatabase.ts';
import { scannersFromEnv } from '../../functions/adapters/scanEngines.ts';
import type { CoreDeps } from '../../functions/core/deps.ts';
import { unmetGates } from '../../functions/core/gates.ts';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { commitUpload, createUpload } from '../../functions/core/uploads.ts';
import { getVersion } from '../../functions/core/versions.ts';
import { rematchVulnerabilities } from '../../functions/core/vulns/rematch.ts';
import { tar } from '../support/archives.ts';
import { admin, type CoreHarness, coreHarness } from '../support/coreHarness.ts';
import { sha256 } from '../support/fixtures.ts';

const sbom = (name: string) => readFileSync(`test/fixtures/sbom/${name}`);
const LODASH = 'GHSA-35jh-r3h4-6jhm.json';

describe('known vulnerabilities from SBOMs in the scan (ARCA_OSV_DB)', () => {
  let h: CoreHarness;
  let deps: CoreDeps;
  let dbDir: string;
  beforeEach(() => {
    h = coreHarness();
    dbDir = mkdtempSync(join(tmpdir(), 'arca-osv-'));
    cpSync('test/fixtures/osv/db', dbDir, { recursive: true });
    const advisories = new OsvDatabaseFiles(dbDir, { checkEveryMs: 0 });
    deps = { ...h.deps, scanners: scannersFromEnv({}), advisories };
  });
  afterEach(() => {
    h.close();
    rmSync(dbDir, { recursive: true, force: true });
  });
  let n = 0;

  const publish = async (bytes: Buffer, name: string) => {
    const ref = { namespace: 'demo', package: 'app', version: `2.0.${n++}` };
    const created = await createUpload(deps, admin, {
      ...ref,
      metadata: {},
      files: [{ name, size: bytes.length, sha256: sha256(bytes), mediaType: 'application/json' }],
    });
    const key = (await deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
    h.blobs.stage(key, bytes);
    await commitUpload(deps, admin, { uploadId: created.uploadId });
    expect(await scanStagedObject(deps, key)).toBe('verified');
    return ref;
  };
  const ids = (v: Awaited<ReturnType<typeof getVersion>>) =>
    (v.files[0]!.scan.vulnerabilities?.findings ?? []).map((f) => `${f.id} ${f.component.purl}`).sort();

  it('reports scan error naming osv while the database cannot be read, keeps the bytes staged, and the retry records the verdict', async () => {
    writeFileSync(join(dbDir, 'broken.json'), '{ not json');
    const bytes = sbom('syft-1.6.cdx.json');
    const ref = { namespace: 'demo', package: 'app', version: '3.0.0' };
    const created = await createUpload(deps, admin, {
      ...ref,
      metadata: {},
      files: [
        { name: 'image.cdx.json', size: bytes.length, sha256: sha256(bytes), mediaType: 'application/json' },
      ],
    });
    const key = (await deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
    h.blobs.stage(key, bytes);
    await commitUpload(deps, admin, { uploadId: created.uploadId });

    await expect(scanStagedObject(deps, key)).rejects.toMatchObject({
      name: 'ScanEngineError',
      engine: 'osv',
    });

    const failing = await getVersion(deps, admin, ref);
    expect(failing.state).toBe('pending');
    expect(failing.files[0]!.state).toBe('pending');
    expect(failing.files[0]!.scan.status).toBe('error');
    expect(failing.files[0]!.scan.error).toEqual({
      engine: 'osv',
      message: expect.stringContaining('broken.json is not an OSV record'),
    });
    expect(await deps.blobs.statStaged(key)).not.toBeNull();

    rmSync(join(dbDir, 'broken.json'));
    expect(await scanStagedObject(deps, key)).toBe('verified');

    const settled = await getVersion(deps, admin, ref);
    expect(settled.state).toBe('available');
    expect(settled.files[0]!.scan.status).toBe('clean');
    expect(settled.files[0]!.scan.error).toBeUndefined();
    expect(ids(settled)).toHaveLength(3);
  });

  it('lists the vulnerabilities of a published SBOM without quarantining it, and names the database', async () => {
    const ref = await publish(sbom('syft-1.6.cdx.json'), 'image.cdx.json');

    const version = await getVersion(deps, admin, ref);
    expect(version.state).toBe('available');
    expect(ids(version)).toEqual([
      'GHSA-69cg-p879-7622 pkg:golang/golang.org/x/net@v0.0.0-20220412020605-290c469a71a5',
      'GHSA-7rrj-xr53-82p7 pkg:cargo/tokio@1.20.1',
      'GHSA-j8r2-6x86-q33q pkg:pypi/requests@2.28.0',
    ]);
    const { scan } = version.files[0]!;
    expect(scan.vulnerabilities).toMatchObject({
      database: expect.stringMatching(/^osv sha256:/),
      components: 4,
    });
    expect(scan.engines?.find((e) => e.name === 'osv')?.database).toMatch(/, 5 advisories$/);
    expect(scan.vulnerabilities?.findings.find((f) => f.id === 'GHSA-j8r2-6x86-q33q')).toEqual({
      id: 'GHSA-j8r2-6x86-q33q',
      aliases: ['CVE-2023-32681'],
      severity: 'medium',
      cvss: { vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N', score: 6.1 },
      summary: 'Unintended leak of Proxy-Authorization header in requests',
      component: { purl: 'pkg:pypi/requests@2.28.0', ecosystem: 'PyPI', name: 'requests', version: '2.28.0' },
      fixed: '2.31.0',
    });
  });

  it('finds the SBOM inside an archive', async () => {
    const release = gzipSync(tar([{ path: 'app/sbom.cdx.json', data: sbom('cyclonedx-npm-1.5.cdx.json') }]));

    const version = await getVersion(deps, admin, await publish(release, 'app.tar.gz'));

    expect(version.state).toBe('available');
    expect(ids(version)).toEqual([
      'GHSA-35jh-r3h4-6jhm pkg:npm/lodash@4.17.15',
      'GHSA-35jh-r3h4-6jhm pkg:npm/lodash@4.17.20',
    ]);
  });

  it('flags an already-available version when the database gains an advisory, without touching its bytes', async () => {
    rmSync(join(dbDir, LODASH));
    const bytes = sbom('cyclonedx-npm-1.5.cdx.json');
    const ref = await publish(bytes, 'bom.json');
    const before = await getVersion(deps, admin, ref);
    expect(before.state).toBe('available');
    expect(ids(before)).toEqual([]);
    const stored = h.blobs.blobs.get(sha256(bytes));

    cpSync(join('test/fixtures/osv/db', LODASH), join(dbDir, LODASH));
    const report = await rematchVulnerabilities(deps);

    expect(report).toMatchObject({ blobs: 1, rematched: 1, newlyFlagged: 1 });
    const after = await getVersion(deps, admin, ref);
    expect(after.state).toBe('available');
    expect(ids(after)).toEqual([
      'GHSA-35jh-r3h4-6jhm pkg:npm/lodash@4.17.15',
      'GHSA-35jh-r3h4-6jhm pkg:npm/lodash@4.17.20',
    ]);
    expect(after.files[0]!.scan.findings).toEqual([]);
    expect(h.blobs.blobs.get(sha256(bytes))).toBe(stored); // the same bytes, never rewritten
    // Matched against this database already: a second run changes nothing.
    expect(await rematchVulnerabilities(deps)).toMatchObject({ rematched: 0 });
  });

  it('keeps the components for a database configured later', async () => {
    const none = { ...deps, advisories: undefined };
    const bytes = sbom('syft-2.3.spdx.json');
    const created = await createUpload(none, admin, {
      namespace: 'demo',
      package: 'svc',
      version: '1.0.0',
      metadata: {},
      files: [
        { name: 'sbom.spdx.json', size: bytes.length, sha256: sha256(bytes), mediaType: 'application/json' },
      ],
    });
    const key = (await none.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
    h.blobs.stage(key, bytes);
    await commitUpload(none, admin, { uploadId: created.uploadId });
    await scanStagedObject(none, key);
    const ref = { namespace: 'demo', package: 'svc', version: '1.0.0' };
    expect((await getVersion(deps, admin, ref)).files[0]!.scan.vulnerabilities).toBeUndefined();

    await rematchVulnerabilities(deps);

    expect(ids(await getVersion(deps, admin, ref))).toEqual([
      'GHSA-57j2-w4cx-62h2 pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.1',
    ]);
  });

  it('gates promotion on the worst severity found, failing closed without a database or a match', async () => {
    const version = await getVersion(deps, admin, await publish(sbom('syft-1.6.cdx.json'), 'image.cdx.json'));
    const gate = (maxSeverity: 'medium' | 'high') => ({ vulnerabilities: { maxSeverity } });

    expect(await unmetGates(deps, gate('medium'), version, undefined)).toEqual([
      {
        gate: 'vulnerabilities',
        message:
          'vulnerabilities above medium: GHSA-69cg-p879-7622 (high) in pkg:golang/golang.org/x/net@v0.0.0-20220412020605-290c469a71a5',
      },
    ]);
    expect(await unmetGates(deps, gate('high'), version, undefined)).toEqual([]);
    expect(await unmetGates({ ...deps, advisories: undefined }, gate('high'), version, undefined)).toEqual([
      { gate: 'vulnerabilities', message: 'no advisory database is configured to match SBOMs against' },
    ]);
  });
});
