import { compare as semverCompare, valid as semverValid } from 'semver';
import type { Ecosystem } from './purl.ts';

/**
 * Version order per ecosystem, as OSV's ECOSYSTEM ranges mean it: SemVer 2.0 for npm, crates.io and
 * Go (npm's own `semver`; Go's `v` prefix and pseudo-versions are SemVer), PEP 440 for PyPI, and
 * Maven's ComparableVersion order for Maven. A version that does not parse compares as undefined:
 * the matcher then says it could not decide rather than guessing.
 */
export function compareVersions(ecosystem: Ecosystem, a: string, b: string): number | undefined {
  switch (ecosystem) {
    case 'PyPI':
      return comparePep440(a, b);
    case 'Maven':
      return compareMaven(a, b);
    default: {
      const x = semverValid(a.replace(/^v/, ''));
      const y = semverValid(b.replace(/^v/, ''));
      return x && y ? semverCompare(x, y) : undefined;
    }
  }
}

// PEP 440, as `packaging.version` orders it.

const PEP440 =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

const PRE_RANK: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };

type Key = (number | string)[];

function pep440Key(version: string): Key[] | undefined {
  const m = PEP440.exec(version);
  if (!m) return undefined;
  const release = m[2]!.split('.').map(Number);
  while (release.length > 1 && release.at(-1) === 0) release.pop();
  const pre = m[3] !== undefined ? [PRE_RANK[m[3].toLowerCase()]!, Number(m[4] ?? 0)] : undefined;
  const post = m[5] !== undefined ? Number(m[5]) : m[6] !== undefined ? Number(m[7] ?? 0) : undefined;
  const dev = m[8] !== undefined ? Number(m[9] ?? 0) : undefined;
  // A dev release of a final version sorts before its pre-releases; no pre-release sorts after them.
  const preKey = pre ?? (post === undefined && dev !== undefined ? [-Infinity] : [Infinity]);
  const local = (m[10] ?? '')
    .split(/[-_.]/)
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part.toLowerCase()));
  return [
    [Number(m[1] ?? 0)],
    release,
    preKey,
    [post ?? -Infinity],
    [dev ?? Infinity],
    local, // none sorts before any: the shorter key
  ];
}

export function comparePep440(a: string, b: string): number | undefined {
  const x = pep440Key(a);
  const y = pep440Key(b);
  if (!x || !y) return undefined;
  for (let i = 0; i < x.length; i++) {
    const order = compareKeys(x[i]!, y[i]!, i === 1 ? 0 : undefined);
    if (order !== 0) return order;
  }
  return 0;
}

/** Element-wise; a shorter key is padded with `pad` (release segments: 0) or sorts first. */
function compareKeys(x: Key, y: Key, pad: number | undefined): number {
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? pad;
    const q = y[i] ?? pad;
    if (p === undefined || q === undefined) return p === undefined ? (q === undefined ? 0 : -1) : 1;
    if (p === q) continue;
    // In a local version, numbers sort after strings.
    if (typeof p !== typeof q) return typeof p === 'number' ? 1 : -1;
    return p < q ? -1 : 1;
  }
  return 0;
}

// Maven: org.apache.maven.artifact.versioning.ComparableVersion.

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = {
  a: 'alpha',
  b: 'beta',
  m: 'milestone',
  cr: 'rc',
  ga: '',
  final: '',
  release: '',
};

type MavenItem =
  | { kind: 'number'; value: bigint }
  | { kind: 'text'; value: string }
  | { kind: 'list'; items: MavenItem[] };

function mavenItems(version: string): MavenItem[] {
  const root: MavenItem[] = [];
  let list = root;
  const stack: MavenItem[][] = [root];
  let token = '';
  let digits = false;
  const push = (followedByDigit = false) => {
    if (token === '') list.push({ kind: 'number', value: 0n });
    else if (digits) list.push({ kind: 'number', value: BigInt(token) });
    else {
      const text = token.toLowerCase();
      // `a1`, `b2`, `m3` are alpha/beta/milestone only when a number follows them directly.
      const alias = text.length === 1 && !followedByDigit ? text : (ALIASES[text] ?? text);
      list.push({ kind: 'text', value: alias });
    }
    token = '';
  };
  const sublist = () => {
    const next: MavenItem[] = [];
    list.push({ kind: 'list', items: next });
    list = next;
    stack.push(next);
  };
  const lower = version.toLowerCase();
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!;
    const isDigit = c >= '0' && c <= '9';
    if (c === '.') {
      push();
    } else if (c === '-') {
      push();
      sublist();
    } else if (token !== '' && isDigit !== digits) {
      push(isDigit);
      sublist(); // a letter/number transition opens a sub-list, like '-'
      token = c;
      digits = isDigit;
    } else {
      if (token === '') digits = isDigit;
      token += c;
    }
  }
  if (token !== '' || lower.endsWith('.') || lower.endsWith('-') || lower === '') push();
  for (const l of stack) trimNulls(l);
  return root;
}

/** Trailing zeros and empty qualifiers carry no order: `1.0.0` is `1`, `1.0-ga` is `1`. */
function trimNulls(items: MavenItem[]): void {
  while (items.length > 0 && isNull(items.at(-1)!)) items.pop();
}

const isNull = (item: MavenItem): boolean =>
  item.kind === 'number'
    ? item.value === 0n
    : item.kind === 'text'
      ? item.value === ''
      : item.items.length === 0;

const qualifierRank = (text: string): string => {
  const at = QUALIFIERS.indexOf(text);
  return at === -1 ? `${QUALIFIERS.length}-${text}` : String(at);
};

function compareItem(a: MavenItem | undefined, b: MavenItem | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -compareItem(b, undefined);
  if (b === undefined) {
    if (a.kind === 'number') return a.value === 0n ? 0 : 1;
    if (a.kind === 'text') return qualifierRank(a.value) < qualifierRank('') ? -1 : a.value === '' ? 0 : 1;
    return a.items.length === 0 ? 0 : compareItem(a.items[0], undefined);
  }
  if (a.kind === 'number') {
    if (b.kind === 'number') return a.value === b.value ? 0 : a.value < b.value ? -1 : 1;
    return 1; // a number beats a qualifier and a sub-list
  }
  if (a.kind === 'text') {
    if (b.kind === 'number' || b.kind === 'list') return -1;
    const x = qualifierRank(a.value);
    const y = qualifierRank(b.value);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (b.kind === 'number') return -1;
  if (b.kind === 'text') return 1;
  return compareLists(a.items, b.items);
}

function compareLists(a: MavenItem[], b: MavenItem[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const order = compareItem(a[i], b[i]);
    if (order !== 0) return order;
  }
  return 0;
}

export function compareMaven(a: string, b: string): number | undefined {
  if (!/^[0-9a-zA-Z._-]+$/.test(a) || !/^[0-9a-zA-Z._-]+$/.test(b)) return undefined;
  return compareLists(mavenItems(a), mavenItems(b));
}
