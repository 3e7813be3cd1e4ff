import { claimMatches } from './access.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { PolicyViolationError } from './errors.ts';
import type { AttestationRecord, NamespacePolicy, PromotionGate, Version } from './model.ts';
import { PROVENANCE_ID } from './provenance.ts';
import { SEVERITY_ORDER } from './vulns/cvss.ts';

/** One unmet gate, as `details.reasons[]` of a 409 PolicyViolation carries it. */
export interface GateReason {
  readonly gate: keyof PromotionGate;
  readonly message: string;
}

/** How far back the previous stage's history is read to find when the version entered it. */
const SOAK_HISTORY_LIMIT = 1000;

/**
 * Throws PolicyViolationError, after auditing the refusal, unless `version` meets every gate the
 * namespace's policy sets on `stage`. Changes nothing else: it runs before the promotion's transaction.
 */
export async function enforceGates(
  deps: CoreDeps,
  caller: Caller,
  policy: NamespacePolicy,
  version: Version,
  stage: string,
): Promise<void> {
  const gate = policy.gates?.[stage];
  if (!gate) return;
  const position = policy.stages?.indexOf(stage) ?? -1;
  const previousStage = position > 0 ? policy.stages![position - 1] : undefined;
  const reasons = await unmetGates(deps, gate, version, previousStage);
  if (reasons.length === 0) return;
  const target = `${version.namespace}/${version.package}@${version.version}`;
  await deps.index.appendAudit({
    at: deps.clock.now().toISOString(),
    actor: caller.principal.id,
    action: 'promote.refused',
    namespace: version.namespace,
    target,
    requestId: caller.requestId,
    details: { stage, reasons },
  });
  throw new PolicyViolationError(
    `${target} does not meet the gates of stage ${stage}: ${reasons.map((r) => r.message).join('; ')}`,
    { details: { stage, reasons } },
  );
}

/** Every gate of `gate` that `version` does not meet, in the order the gates are listed. */
export async function unmetGates(
  deps: CoreDeps,
  gate: PromotionGate,
  version: Version,
  previousStage: string | undefined,
): Promise<GateReason[]> {
  const needsAttestations = gate.provenance !== undefined || gate.attestations !== undefined;
  const attestations = needsAttestations ? await deps.index.listAttestations(version) : [];
  const reasons: GateReason[] = [];
  if (gate.scan === 'clean') {
    const unclean = version.files.filter((f) => f.scan.status !== 'clean');
    if (unclean.length > 0) {
      const list = unclean.map((f) => `${f.name} (${f.scan.status})`).join(', ');
      reasons.push({ gate: 'scan', message: `files not scanned clean: ${list}` });
    }
  }
  const missing = (gate.metadata ?? []).filter((key) => version.metadata[key] === undefined);
  if (missing.length > 0) {
    reasons.push({ gate: 'metadata', message: `metadata keys missing: ${missing.join(', ')}` });
  }
  if (gate.provenance) reasons.push(...provenanceReasons(gate.provenance, version, attestations));
  const absent = (gate.attestations ?? []).filter(
    (type) => !attestations.some((a) => a.verified && a.predicateType === type),
  );
  if (absent.length > 0) {
    reasons.push({ gate: 'attestations', message: `no verified attestation of: ${absent.join(', ')}` });
  }
  if (gate.vulnerabilities)
    reasons.push(...(await vulnerabilityReasons(deps, gate.vulnerabilities.maxSeverity, version)));
  if (gate.minSoakSeconds !== undefined && previousStage !== undefined) {
    const soaked = await soakSeconds(deps, version, previousStage);
    if (soaked === null) {
      reasons.push({ gate: 'minSoakSeconds', message: `never promoted to ${previousStage}` });
    } else if (soaked < gate.minSoakSeconds) {
      reasons.push({
        gate: 'minSoakSeconds',
        message: `${Math.floor(soaked)} s in ${previousStage}, ${gate.minSoakSeconds} s required`,
      });
    }
  }
  return reasons;
}

/**
 * Known vulnerabilities of the version's SBOM components, from each file's blob report and each
 * attested SBOM. Fails
 * closed: without an advisory database, or with components not yet matched against it, the gate
 * cannot vouch for the version and refuses; an advisory without a severity counts as above any.
 */
async function vulnerabilityReasons(
  deps: CoreDeps,
  maxSeverity: NonNullable<PromotionGate['vulnerabilities']>['maxSeverity'],
  version: Version,
): Promise<GateReason[]> {
  if (!deps.advisories) {
    return [
      { gate: 'vulnerabilities', message: 'no advisory database is configured to match SBOMs against' },
    ];
  }
  const blobs = await deps.index.getBlobs(version.files.map((f) => f.sha256));
  const unmatched: string[] = [];
  const above: string[] = [];
  const limit = SEVERITY_ORDER.indexOf(maxSeverity);
  const reports = version.files.map((file) => {
    const report = blobs.get(file.sha256)?.scan;
    return { name: file.name, components: report?.components, vulnerabilities: report?.vulnerabilities };
  });
  // SBOMs publishers attested count like SBOM files: they can only make the gate stricter.
  for (const a of await deps.index.listAttestations(version)) {
    if (a.sbom) {
      const { components, vulnerabilities } = a.sbom;
      reports.push({ name: `attestation ${a.id}`, components, vulnerabilities });
    }
  }
  for (const report of reports) {
    if (report.components && !report.vulnerabilities) unmatched.push(report.name);
    for (const v of report.vulnerabilities?.findings ?? []) {
      const rank = v.severity === 'unknown' ? SEVERITY_ORDER.length : SEVERITY_ORDER.indexOf(v.severity);
      if (rank > limit) above.push(`${v.id} (${v.severity}) in ${v.component.purl}`);
    }
  }
  const reasons: GateReason[] = [];
  if (unmatched.length > 0) {
    reasons.push({
      gate: 'vulnerabilities',
      message: `SBOMs not yet matched against advisories: ${unmatched.join(', ')}`,
    });
  }
  if (above.length > 0) {
    const listed = [...new Set(above)];
    const shown = listed.length > 10 ? [...listed.slice(0, 10), `and ${listed.length - 10} more`] : listed;
    reasons.push({
      gate: 'vulnerabilities',
      message: `vulnerabilities above ${maxSeverity}: ${shown.join(', ')}`,
    });
  }
  return reasons;
}

/**
 * The store's signed provenance must exist, and the identity it vouches for is the publisher's
 * verified OIDC claims recorded at commit: client-supplied metadata never counts.
 */
function provenanceReasons(
  expected: Readonly<Record<string, string>>,
  version: Version,
  attestations: readonly AttestationRecord[],
): GateReason[] {
  const reasons: GateReason[] = [];
  const signed = attestations.some((a) => a.id === PROVENANCE_ID && a.kind === 'provenance' && a.verified);
  if (!signed) reasons.push({ gate: 'provenance', message: 'no verified store provenance attestation' });
  const claims = version.publisher?.claims ?? {};
  const mismatched = Object.entries(expected)
    .filter(([name, value]) => !claimMatches(value, claims[name]))
    .map(
      ([name, value]) => `${name} is ${JSON.stringify(claims[name] ?? null)}, not ${JSON.stringify(value)}`,
    );
  if (mismatched.length > 0) {
    reasons.push({ gate: 'provenance', message: `publisher identity: ${mismatched.join(', ')}` });
  }
  return reasons;
}

/**
 * Seconds the version spent in `stage` on its latest stay there: from the promotion that last moved
 * the pointer to it until the next move (or now, while it is still there). Null when the history
 * read holds no promotion of it.
 */
async function soakSeconds(deps: CoreDeps, version: Version, stage: string): Promise<number | null> {
  const view = await deps.index.getStage(version.namespace, version.package, stage, SOAK_HISTORY_LIMIT);
  const history = view?.history ?? [];
  const entered = history.findIndex((p) => p.version === version.version);
  if (entered === -1) return null;
  const left = entered === 0 ? deps.clock.now() : new Date(history[entered - 1]!.promotedAt);
  return (left.getTime() - new Date(history[entered]!.promotedAt).getTime()) / 1000;
}
