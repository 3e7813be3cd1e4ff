import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OsvDatabaseFiles } from '../../functions/adapters/osvDatabase.ts';
import { scannersFromEnv } from '../../functions/adapters/scanEngines.ts';
import { addPublisherAttestation } from '../../functions/core/attestations.ts';
import type { CoreDeps } from '../../functions/core/deps.ts';
import { unmetGates } from '../../functions/core/gates.ts';
import type { Vulnerability } from '../../functions/core/model.ts';
import { listVersionAttestations } from '../../functions/core/provenance.ts';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { commitUpload, createUpload } from '../../functions/core/uploads.ts';
import { getVersion } from '../../functions/core/versions.ts';
import { rematchVulnerabilities } from '../../functions/core/vulns/rematch.ts';
import { admin, type CoreHarness, coreHarness } from '../support/coreHarness.ts';
import { sha256 } from '../support/fixtures.ts';

const REQUESTS = 'GHSA-j8r2-6x86-q33q.json';
const app = Buffer.from('a release without an SBOM inside');

/** A DSSE envelope (unsigned: the namespace trusts no key) of a Statement about `digest`. */
function envelope(digest: string, predicateType: string, predicate: unknown) {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app.bin', digest: { sha256: digest } }],
    predicateType,
    predicate,
  };
  return {
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
    signatures: [{ keyid: 'ci', sig: Buffer.from('unsigned').toString('base64') }],
  };
}

const found = (findings: readonly Vulnerability[] | undefined) =>
  (findings ?? []).map((v) => `${v.id} ${v.component.purl}`).sort();

describe('SBOMs attached as publisher attestations', () => {
  let h: CoreHarness;
  let deps: CoreDeps;
  let dbDir: string;
  const ref = { namespace: 'demo', package: 'app', version: '1.0.0' };
  beforeEach(async () => {
    h = coreHarness();
    dbDir = mkdtempSync(join(tmpdir(), 'arca-osv-'));
    cpSync('test/fixtures/osv/db', dbDir, { recursive: true });
    deps = {
      ...h.deps,
      scanners: scannersFromEnv({}),
      advisories: new OsvDatabaseFiles(dbDir, { checkEveryMs: 0 }),
    };
    const created = await createUpload(deps, admin, {
      ...ref,
      metadata: {},
      files: [
        { name: 'app.bin', size: app.length, sha256: sha256(app), mediaType: 'application/octet-stream' },
      ],
    });
    const key = (await deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
    h.blobs.stage(key, app);
    await commitUpload(deps, admin, { uploadId: created.uploadId });
    expect(await scanStagedObject(deps, key)).toBe('verified');
  });
  afterEach(() => {
    h.close();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it('matches a CycloneDX predicate at attach like a published SBOM file', async () => {
    const bom = JSON.parse(readFileSync('test/fixtures/sbom/syft-1.6.cdx.json', 'utf8'));

    const view = await addPublisherAttestation(
      deps,
      admin,
      ref,
      envelope(sha256(app), 'https://cyclonedx.org/bom', bom),
    );

    expect(view.sbom).toMatchObject({ format: 'CycloneDX', vulnerabilities: { components: 4 } });
    expect(found(view.sbom?.vulnerabilities?.findings)).toEqual([
      'GHSA-69cg-p879-7622 pkg:golang/golang.org/x/net@v0.0.0-20220412020605-290c469a71a5',
      'GHSA-7rrj-xr53-82p7 pkg:cargo/tokio@1.20.1',
      'GHSA-j8r2-6x86-q33q pkg:pypi/requests@2.28.0',
    ]);
    const listed = (await listVersionAttestations(deps, admin, ref)).items.find((a) => a.id === view.id);
    expect(listed!.sbom).toEqual(view.sbom);
  });

  it('reads an SPDX predicate (versioned predicate type too) and leaves other predicates alone', async () => {
    const spdx = JSON.parse(readFileSync('test/fixtures/sbom/syft-2.3.spdx.json', 'utf8'));

    const view = await addPublisherAttestation(
      deps,
      admin,
      ref,
      envelope(sha256(app), 'https://spdx.dev/Document/v2.3', spdx),
    );
    const slsa = await addPublisherAttestation(
      deps,
      admin,
      ref,
      envelope(sha256(app), 'https://slsa.dev/provenance/v1', spdx),
    );
    const notADocument = await addPublisherAttestation(
      deps,
      admin,
      ref,
      envelope(
        sha256(app),
        'https://cyclonedx.org/bom',
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5"/>',
      ),
    );

    expect(view.sbom?.format).toBe('SPDX');
    expect(found(view.sbom?.vulnerabilities?.findings)).toEqual([
      'GHSA-57j2-w4cx-62h2 pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.1',
    ]);
    expect(slsa.sbom).toBeUndefined();
    expect(notADocument.sbom).toBeUndefined();
  });

  it('re-matches an attested SBOM when the database gains an advisory, and the gate counts it', async () => {
    rmSync(join(dbDir, REQUESTS));
    const bom = JSON.parse(readFileSync('test/fixtures/sbom/syft-1.6.cdx.json', 'utf8'));
    const view = await addPublisherAttestation(
      deps,
      admin,
      ref,
      envelope(sha256(app), 'https://cyclonedx.org/bom', bom),
    );
    expect(found(view.sbom?.vulnerabilities?.findings)).not.toContain(
      'GHSA-j8r2-6x86-q33q pkg:pypi/requests@2.28.0',
    );

    cpSync(join('test/fixtures/osv/db', REQUESTS), join(dbDir, REQUESTS));
    const report = await rematchVulnerabilities(deps);

    expect(report).toMatchObject({ blobs: 0, attestations: 1, rematched: 1, newlyFlagged: 1 });
    const listed = (await listVersionAttestations(deps, admin, ref)).items.find((a) => a.id === view.id);
    expect(found(listed!.sbom?.vulnerabilities?.findings)).toContain(
      'GHSA-j8r2-6x86-q33q pkg:pypi/requests@2.28.0',
    );
    expect(listed!.envelope).toEqual(view.envelope);
    expect(await rematchVulnerabilities(deps)).toMatchObject({ rematched: 0 });

    const version = await getVersion(deps, admin, ref);
    expect(version.files[0]!.scan.vulnerabilities).toBeUndefined(); // the file itself holds no SBOM
    expect(
      await unmetGates(deps, { vulnerabilities: { maxSeverity: 'medium' } }, version, undefined),
    ).toEqual([
      {
        gate: 'vulnerabilities',
        message:
          'vulnerabilities above medium: GHSA-69cg-p879-7622 (high) in pkg:golang/golang.org/x/net@v0.0.0-20220412020605-290c469a71a5',
      },
    ]);
  });

  it('keeps an attested SBOM unmatched when the database cannot be read, so the gate refuses it', async () => {
    const broken = { ...deps, advisories: { current: () => Promise.reject(new Error('unreadable')) } };
    const bom = JSON.parse(readFileSync('test/fixtures/sbom/syft-1.6.cdx.json', 'utf8'));

    const view = await addPublisherAttestation(
      broken,
      admin,
      ref,
      envelope(sha256(app), 'https://cyclonedx.org/bom', bom),
    );

    expect(view.sbom?.components).toHaveLength(4);
    expect(view.sbom?.vulnerabilities).toBeUndefined();
    const version = await getVersion(deps, admin, ref);
    expect(
      await unmetGates(deps, { vulnerabilities: { maxSeverity: 'critical' } }, version, undefined),
    ).toEqual([
      {
        gate: 'vulnerabilities',
        message: `SBOMs not yet matched against advisories: attestation ${view.id}`,
      },
    ]);
  });
});
