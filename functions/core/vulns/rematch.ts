import type { Clock, Index } from '../../ports.ts';
import type { VulnerabilityReport } from '../model.ts';
import { type AdvisorySource, matchComponents } from './osv.ts';

export interface RematchDeps {
  readonly index: Index;
  readonly clock: Clock;
  readonly advisories?: AdvisorySource;
}

export interface RematchReport {
  /** The advisory database matched against. */
  readonly database: string;
  /** Blobs whose report keeps SBOM components. */
  readonly blobs: number;
  /** Attestations that carry an SBOM. */
  readonly attestations: number;
  /** Blobs and attestations matched again because their report named another database. */
  readonly rematched: number;
  /** Of those, how many have vulnerabilities they did not have before (by advisory id and purl). */
  readonly newlyFlagged: number;
}

/**
 * Matches the SBOM components kept in every blob's scan report (and every attested SBOM) against the advisory database as it
 * is now, when the report was matched against another one: a new advisory flags versions that are
 * already available, without reading or touching their bytes (only `scan.vulnerabilities` is
 * replaced; vulnerabilities never quarantine). Idempotent: a report already matched against this
 * database is left alone, so it is cheap to run on a schedule.
 */
export async function rematchVulnerabilities(deps: RematchDeps): Promise<RematchReport | undefined> {
  if (!deps.advisories) return undefined;
  const index = await deps.advisories.current();
  const database = `osv ${index.version}`;
  const blobs = await deps.index.listBlobsWithComponents();
  let rematched = 0;
  let newlyFlagged = 0;
  /** Matches one kept list of components unless already matched against this database. */
  const rematch = async (
    components: readonly string[] | undefined,
    previous: VulnerabilityReport | undefined,
    save: (report: VulnerabilityReport) => Promise<boolean>,
  ) => {
    if (!components || previous?.database === database) return;
    const report = matchComponents(index, components, deps.clock.now());
    const before = new Set((previous?.findings ?? []).map((v) => `${v.id}\0${v.component.purl}`));
    if (!(await save(report))) return;
    rematched++;
    if (report.findings.some((v) => !before.has(`${v.id}\0${v.component.purl}`))) newlyFlagged++;
  };
  for (const blob of blobs) {
    await rematch(blob.scan?.components, blob.scan?.vulnerabilities, (report) =>
      deps.index.setBlobVulnerabilities(blob.sha256, report),
    );
  }
  // SBOMs publishers attested: matched the same way, their envelopes untouched.
  const attested = await deps.index.listAttestedSboms();
  for (const { ref, id, sbom } of attested) {
    await rematch(sbom.components, sbom.vulnerabilities, (report) =>
      deps.index.setAttestationVulnerabilities(ref, id, report),
    );
  }
  return { database, blobs: blobs.length, attestations: attested.length, rematched, newlyFlagged };
}
