/**
 * CVSS v3.0/v3.1 base scores from vector strings (the formulas of the FIRST specification, §7.1 and
 * Appendix A's Roundup), since OSV records carry the vector, not the score.
 */

export type Severity = 'none' | 'low' | 'medium' | 'high' | 'critical';

const WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
} as const;

const PR = { U: { N: 0.85, L: 0.62, H: 0.27 }, C: { N: 0.85, L: 0.68, H: 0.5 } } as const;

/** Rounds up to one decimal, as v3.1 defines it (integer arithmetic, free of float noise). */
function roundUp(value: number): number {
  const scaled = Math.round(value * 100_000);
  return scaled % 10_000 === 0 ? scaled / 100_000 : (Math.floor(scaled / 10_000) + 1) / 10;
}

/** The base score of a `CVSS:3.x/AV:…` vector, or undefined when it is not one. */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return undefined;
  const m: Record<string, string> = {};
  for (const part of parts.slice(1)) {
    const [key, value] = part.split(':');
    if (key && value) m[key] = value;
  }
  const pick = <T extends Record<string, number>>(table: T, key: string | undefined): number | undefined =>
    key !== undefined && key in table ? table[key as keyof T] : undefined;
  const scope = m.S === 'U' || m.S === 'C' ? m.S : undefined;
  const av = pick(WEIGHTS.AV, m.AV);
  const ac = pick(WEIGHTS.AC, m.AC);
  const ui = pick(WEIGHTS.UI, m.UI);
  const c = pick(WEIGHTS.C, m.C);
  const i = pick(WEIGHTS.I, m.I);
  const a = pick(WEIGHTS.A, m.A);
  const pr = scope ? pick(PR[scope], m.PR) : undefined;
  if ([av, ac, ui, c, i, a, pr].some((w) => w === undefined) || !scope) return undefined;
  const iss = 1 - (1 - c!) * (1 - i!) * (1 - a!);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const exploitability = 8.22 * av! * ac! * pr! * ui!;
  if (impact <= 0) return 0;
  return scope === 'U'
    ? roundUp(Math.min(impact + exploitability, 10))
    : roundUp(Math.min(1.08 * (impact + exploitability), 10));
}

/** The qualitative rating of a CVSS score (v3 table 14). */
export function severityOfScore(score: number): Severity {
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

export const SEVERITY_ORDER: readonly Severity[] = ['none', 'low', 'medium', 'high', 'critical'];
