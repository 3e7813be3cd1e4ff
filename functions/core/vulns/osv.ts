import { BUILTIN } from '../builtinEngines.ts';
import type { EngineRun, Vulnerability, VulnerabilityReport } from '../model.ts';
import { cvss3BaseScore, type Severity, severityOfScore } from './cvss.ts';
import { type Component, componentOf, type Ecosystem, packageKey } from './purl.ts';
import { compareVersions } from './versions.ts';

/** The fields of an OSV record (OSV schema 1.x) that matching reads. */
export interface OsvRecord {
  readonly id: string;
  readonly modified?: string;
  readonly withdrawn?: string;
  readonly aliases?: readonly string[];
  readonly summary?: string;
  readonly severity?: readonly { readonly type: string; readonly score: string }[];
  readonly affected?: readonly OsvAffected[];
  readonly database_specific?: { readonly severity?: string };
}

interface OsvAffected {
  readonly package?: { readonly ecosystem?: string; readonly name?: string };
  readonly ranges?: readonly OsvRange[];
  readonly versions?: readonly string[];
  readonly severity?: readonly { readonly type: string; readonly score: string }[];
}

interface OsvRange {
  readonly type: string;
  readonly events: readonly Readonly<Record<string, string>>[];
}

/** Where the scan gets the advisory database: the operator's, reloaded when it changes. */
export interface AdvisorySource {
  /** The database as it is now; throws when it cannot be read (the scan is then retried). */
  current(): Promise<OsvIndex>;
}

/** GitHub's ratings in `database_specific.severity`, used when there is no CVSS v3 vector. */
const GHSA_SEVERITY: Record<string, Severity> = {
  LOW: 'low',
  MODERATE: 'medium',
  MEDIUM: 'medium',
  HIGH: 'high',
  CRITICAL: 'critical',
};

/**
 * An advisory database in memory, indexed by ecosystem and package. Built from OSV records (the
 * operator's export: see adapters/osvDatabase.ts); `version` names it in the reports.
 */
export class OsvIndex {
  private readonly byPackage = new Map<string, { record: OsvRecord; affected: OsvAffected }[]>();
  readonly advisories: number;

  constructor(
    records: Iterable<OsvRecord>,
    /** Names this database in reports: a digest of its content, so any change is a new version. */
    readonly version: string,
  ) {
    let count = 0;
    for (const record of records) {
      if (record.withdrawn || typeof record.id !== 'string') continue;
      count++;
      for (const affected of record.affected ?? []) {
        const { ecosystem, name } = affected.package ?? {};
        if (!ecosystem || !name) continue;
        const key = packageKey(ecosystem.split(':')[0]!, name);
        const list = this.byPackage.get(key) ?? [];
        list.push({ record, affected });
        this.byPackage.set(key, list);
      }
    }
    this.advisories = count;
  }

  /** How the report names this database. */
  engine(): EngineRun {
    return { name: 'osv', version: BUILTIN, database: `${this.version}, ${this.advisories} advisories` };
  }

  /** Every advisory affecting one of `components`, once per advisory and component. */
  match(components: readonly Component[]): Vulnerability[] {
    const out: Vulnerability[] = [];
    const seen = new Set<string>();
    for (const component of components) {
      for (const { record, affected } of this.byPackage.get(
        packageKey(component.ecosystem, component.name),
      ) ?? []) {
        const key = `${record.id}\0${component.purl}`;
        if (seen.has(key)) continue;
        const hit = affects(affected, component);
        if (!hit.affected) continue;
        seen.add(key);
        out.push(vulnerability(record, affected, component, hit.fixed));
      }
    }
    return out;
  }
}

/**
 * OSV's evaluation: the version is affected when listed in `versions`, or when any SEMVER or
 * ECOSYSTEM range holds it: walking the range's events in version order, an `introduced` at or
 * below it opens the range, a `fixed` at or below it closes it, a `last_affected` below it closes it.
 * `introduced: "0"` is below everything. GIT ranges need commit history and are not evaluated.
 */
export function affects(affected: OsvAffected, component: Component): { affected: boolean; fixed?: string } {
  const { ecosystem, version } = component;
  if (affected.versions?.includes(version))
    return { affected: true, ...fixedAbove(affected, ecosystem, version) };
  for (const range of affected.ranges ?? []) {
    if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') continue;
    if (inRange(range, ecosystem, version))
      return { affected: true, ...fixedAbove(affected, ecosystem, version) };
  }
  return { affected: false };
}

function inRange(range: OsvRange, ecosystem: Ecosystem, version: string): boolean {
  const cmp = (event: string) => (event === '0' ? 1 : compareVersions(ecosystem, version, event));
  const events = range.events
    .map((e) => Object.entries(e)[0])
    .filter(
      (e): e is [string, string] =>
        e !== undefined && ['introduced', 'fixed', 'last_affected'].includes(e[0]),
    )
    .sort((x, y) => orderOf(ecosystem, x[1], y[1]));
  let affected = false;
  for (const [kind, at] of events) {
    const order = cmp(at);
    if (order === undefined) continue; // an event this ecosystem's order cannot read decides nothing
    if (kind === 'introduced' && order >= 0) affected = true;
    else if (kind === 'fixed' && order >= 0) affected = false;
    else if (kind === 'last_affected' && order > 0) affected = false;
  }
  return affected;
}

const orderOf = (ecosystem: Ecosystem, a: string, b: string): number =>
  a === b ? 0 : a === '0' ? -1 : b === '0' ? 1 : (compareVersions(ecosystem, a, b) ?? 0);

function fixedAbove(affected: OsvAffected, ecosystem: Ecosystem, version: string): { fixed?: string } {
  const fixes = (affected.ranges ?? [])
    .flatMap((r) => r.events.map((e) => e.fixed))
    .filter((f): f is string => f !== undefined && (compareVersions(ecosystem, f, version) ?? 0) > 0)
    .sort((a, b) => orderOf(ecosystem, a, b));
  return fixes[0] ? { fixed: fixes[0] } : {};
}

function vulnerability(
  record: OsvRecord,
  affected: OsvAffected,
  component: Component,
  fixed?: string,
): Vulnerability {
  const vector = [...(affected.severity ?? []), ...(record.severity ?? [])].find(
    (s) => s.type === 'CVSS_V3',
  )?.score;
  const score = vector ? cvss3BaseScore(vector) : undefined;
  const rated = record.database_specific?.severity?.toUpperCase();
  const severity =
    score !== undefined ? severityOfScore(score) : ((rated ? GHSA_SEVERITY[rated] : undefined) ?? 'unknown');
  return {
    id: record.id,
    aliases: record.aliases ?? [],
    severity,
    ...(vector && score !== undefined ? { cvss: { vector, score } } : {}),
    ...(record.summary ? { summary: record.summary.slice(0, 160) } : {}),
    component: {
      purl: component.purl,
      ecosystem: component.ecosystem,
      name: component.name,
      version: component.version,
    },
    ...(fixed ? { fixed } : {}),
  };
}

/** Worst first: what is kept when there are more than the report holds. */
const RANK = ['critical', 'high', 'unknown', 'medium', 'low', 'none'];
/** Findings kept per file (the worst): the report lives in one index item, of 400 KB on DynamoDB. */
const MAX_FINDINGS_KEPT = 300;

/** The report of matching `purls` against `index`: what a scan and a re-match both record. */
export function matchComponents(index: OsvIndex, purls: readonly string[], now: Date): VulnerabilityReport {
  const components = purls.map(componentOf).filter((c): c is Component => c !== undefined);
  const found = index.match(components).sort((a, b) => RANK.indexOf(a.severity) - RANK.indexOf(b.severity));
  return {
    database: `osv ${index.version}`,
    matchedAt: now.toISOString(),
    components: components.length,
    findings: found.slice(0, MAX_FINDINGS_KEPT),
    ...(found.length > MAX_FINDINGS_KEPT ? { omitted: found.length - MAX_FINDINGS_KEPT } : {}),
  };
}
