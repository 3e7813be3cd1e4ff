import type { AttestedSbom } from '../model.ts';
import { type AdvisorySource, matchComponents } from './osv.ts';
import { componentsOf } from './sbomComponents.ts';

/** The in-toto predicate types of SBOMs (cosign's `--type cyclonedx` / `--type spdxjson`, and versioned forms). */
const SBOM_PREDICATES = [
  { format: 'CycloneDX', type: 'https://cyclonedx.org/bom' },
  { format: 'SPDX', type: 'https://spdx.dev/Document' },
] as const;

/** Purls kept per attestation, as per file: enough for real SBOMs, small enough for one index item. */
const MAX_COMPONENTS_KEPT = 2000;

/**
 * The SBOM a publisher attestation carries, read like a published SBOM file, or undefined when its
 * predicate type is not an SBOM's or its predicate is not a CycloneDX / SPDX JSON document of that
 * format (an XML SBOM as a string, say): stored as it is, with no `sbom`, so nothing claims it was
 * read. With an advisory database its components are matched now; a database that cannot be read
 * leaves them unmatched (the promotion gate refuses until the re-match fills them in), never "no
 * findings".
 */
export async function attestedSbomOf(
  predicateType: string,
  predicate: unknown,
  advisories: AdvisorySource | undefined,
  now: Date,
): Promise<AttestedSbom | undefined> {
  const declared = SBOM_PREDICATES.find(
    (p) => predicateType === p.type || predicateType.startsWith(`${p.type}/`),
  );
  if (!declared) return undefined;
  const read = componentsOf(predicate);
  if (!read || read.format !== declared.format) return undefined;
  const components = [...new Set(read.components.map((c) => c.purl))].slice(0, MAX_COMPONENTS_KEPT);
  const sbom: AttestedSbom = { format: declared.format, components };
  if (!advisories) return sbom;
  try {
    return { ...sbom, vulnerabilities: matchComponents(await advisories.current(), components, now) };
  } catch {
    return sbom; // matched by the next re-match; until then the gate sees it unmatched
  }
}
