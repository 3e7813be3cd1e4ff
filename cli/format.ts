import { setTimeout as sleep } from 'node:timers/promises';
import type { ContentSummary, VulnerabilityReport } from '../functions/core/model.ts';
import type { ArcaClient, Attestation, Version } from './client.ts';
import { CliError, EXIT, HttpError, IntegrityError } from './errors.ts';
import { formatBytes } from './progress.ts';
import { formatRef, type VersionRef } from './refs.ts';

/** A Version as a few readable lines: header, metadata, then one line per file. */
export function describeVersion(v: Version): string[] {
  const lines = [
    `${formatRef(v)}  ${v.state}${v.stages.length > 0 ? `  stages: ${v.stages.join(', ')}` : ''}${v.protected ? '  (protected)' : ''}`,
    `  created ${v.createdAt} by ${v.createdBy}`,
  ];
  if (v.state === 'deleted') lines.push(`  deleted ${v.deletedAt} by ${v.deletedBy}: ${v.reason}`);
  for (const [k, val] of Object.entries(v.metadata)) lines.push(`  ${k}=${val}`);
  for (const f of v.files) {
    lines.push(`  ${f.name}  ${formatBytes(f.size)}  sha256:${f.sha256}  ${f.state}  scan ${f.scan.status}`);
    // A failed attempt: the file stays pending (never clean) and the scan is retried.
    if (f.scan.error)
      lines.push(`    scan error: ${f.scan.error.engine}: ${f.scan.error.message} (retrying)`);
    lines.push(...describeContents(f.scan.contents));
    lines.push(...describeVulnerabilities(f.scan.vulnerabilities));
  }
  return lines;
}

/** Known vulnerabilities of the file's SBOM components, worst first; informational, never a verdict. */
export function describeVulnerabilities(report: VulnerabilityReport | undefined): string[] {
  if (!report) return [];
  const order = ['critical', 'high', 'medium', 'low', 'none', 'unknown'];
  const found = [...report.findings].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity));
  const lines = [
    `    vulnerabilities: ${found.length} in ${report.components} components (${report.database})`,
  ];
  for (const v of found) {
    const aliases = v.aliases.length > 0 ? ` (${v.aliases.join(', ')})` : '';
    const fixed = v.fixed ? `  fixed in ${v.fixed}` : '';
    lines.push(`      ${v.severity.padEnd(8)} ${v.id}${aliases}  ${v.component.purl}${fixed}`);
  }
  return lines;
}

/** What the scan found the file to be: an archive's listing, an SBOM. */
function describeContents(contents: ContentSummary | undefined): string[] {
  const lines: string[] = [];
  const archive = contents?.archive;
  if (archive) {
    const sboms = archive.sboms.length > 0 ? `, SBOMs: ${archive.sboms.join(', ')}` : '';
    const incomplete = archive.incomplete ? ` (listing incomplete: ${archive.incomplete})` : '';
    lines.push(
      `    ${archive.format}, ${archive.entries} entries, ${formatBytes(archive.expandedBytes)} expanded${sboms}${incomplete}`,
    );
  }
  const sbom = contents?.sbom;
  if (sbom) lines.push(`    SBOM: ${sbom.format}${sbom.specVersion ? ` ${sbom.specVersion}` : ''}`);
  return lines;
}

/** The findings of every quarantined file, one line each. */
export function describeFindings(v: Version): string[] {
  return v.files.flatMap((f) =>
    f.scan.findings.map(
      (x) => `  ${f.name}: [${x.scanner}/${x.rule}] ${x.message}${x.path ? ` (${x.path})` : ''}`,
    ),
  );
}

/**
 * Attestations, one line each, then the store provenance's signer (as the store reports it;
 * `arca verify` checks it): `provenance: signed by <keyId>` or `provenance: none`.
 */
export function describeAttestations(attestations: readonly Attestation[]): string[] {
  const lines = attestations.length > 0 ? ['  attestations:'] : [];
  for (const a of attestations) {
    const signer = a.signedBy ? `signed by ${a.signedBy}` : 'no trusted signer';
    lines.push(
      `    ${a.kind.padEnd(10)}  ${a.predicateType}  ${signer}  ${a.verified ? 'verified' : 'not verified'}`,
    );
    // An attested SBOM: its known vulnerabilities, or that it is not matched yet.
    if (a.sbom?.vulnerabilities)
      lines.push(...describeVulnerabilities(a.sbom.vulnerabilities).map((l) => `  ${l}`));
    else if (a.sbom)
      lines.push(`      sbom: ${a.sbom.components.length} components, not matched against advisories yet`);
  }
  lines.push(`  provenance: ${provenanceSigner(attestations)}`);
  return lines;
}

/** `signed by <keyId>` when the store verified its own provenance signature, else why not. */
export function provenanceSigner(attestations: readonly Attestation[]): string {
  const provenance = attestations.find((a) => a.kind === 'provenance');
  if (!provenance) return 'none';
  return provenance.verified && provenance.signedBy
    ? `signed by ${provenance.signedBy}`
    : 'present, but its signature did not verify';
}

/** Throws exit 4 with the scan findings when the version is quarantined. */
export function assertNotQuarantined(v: Version): void {
  if (v.state !== 'quarantined') return;
  const findings = describeFindings(v);
  throw new IntegrityError(
    [
      `${formatRef(v)} is quarantined by the scan`,
      ...(findings.length ? findings : ['  (no findings reported)']),
    ].join('\n'),
    'Quarantined',
  );
}

/**
 * Polls until the version leaves `pending` (scan done), backing off from 200 ms to 2 s. A version
 * still pending at the deadline is a transient failure: the scan may just be slow.
 */
export async function waitUntilScanned(
  client: ArcaClient,
  ref: VersionRef,
  timeoutMs: number,
): Promise<Version> {
  const deadline = Date.now() + timeoutMs;
  let delay = 200;
  const pause = async (what: string) => {
    if (Date.now() + delay > deadline) {
      throw new CliError(
        EXIT.transient,
        `${formatRef(ref)} ${what} after ${Math.round(timeoutMs / 1000)}s`,
        'Timeout',
      );
    }
    await sleep(delay);
    delay = Math.min(2_000, delay * 1.5);
  };
  for (;;) {
    const version = await client.getVersion(ref);
    if (version.state === 'available') {
      // The store signs its provenance just after the version turns available: wait for it too, so a
      // pipeline's next step (`arca verify`) finds it.
      while (!(await hasProvenance(client, ref))) await pause('has no provenance yet');
      return version;
    }
    if (version.state !== 'pending') return version;
    // A scan engine that keeps failing (clamd unreachable…) is worth naming: it will not pass by waiting.
    const errors = version.files.flatMap((f) =>
      f.scan.error ? [`${f.name}: ${f.scan.error.engine}: ${f.scan.error.message}`] : [],
    );
    await pause(
      errors.length > 0
        ? `is still pending; scan errors (retrying): ${errors.join('; ')}`
        : 'is still pending',
    );
  }
}

/** True once the store's provenance is listed; also true for a store that keeps no attestations. */
async function hasProvenance(client: ArcaClient, ref: VersionRef): Promise<boolean> {
  try {
    return (await client.listAttestations(ref)).items.some((a) => a.kind === 'provenance');
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return true;
    throw error;
  }
}
