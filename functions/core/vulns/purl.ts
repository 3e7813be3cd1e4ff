/**
 * Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`, the purl spec) as SBOMs name
 * components, read into what an OSV advisory names: its ecosystem and package name.
 */

export type Ecosystem = 'npm' | 'PyPI' | 'Maven' | 'Go' | 'crates.io';

export interface Component {
  readonly purl: string;
  readonly ecosystem: Ecosystem;
  /** The package as OSV names it: `@scope/name`, `group:artifact`, a Go module path, … */
  readonly name: string;
  readonly version: string;
}

const ECOSYSTEMS: Record<string, Ecosystem> = {
  npm: 'npm',
  pypi: 'PyPI',
  maven: 'Maven',
  golang: 'Go',
  cargo: 'crates.io',
};

/** The component a purl names, or undefined when it has no version or is of an ecosystem not matched. */
export function componentOf(purl: string): Component | undefined {
  const match = /^pkg:([a-zA-Z][a-zA-Z0-9.+-]*)\/([^?#]+)/.exec(purl.trim());
  if (!match) return undefined;
  const ecosystem = ECOSYSTEMS[match[1]!.toLowerCase()];
  if (!ecosystem) return undefined;
  const path = match[2]!;
  const at = path.lastIndexOf('@');
  if (at <= 0) return undefined;
  const segments = path.slice(0, at).split('/').filter(Boolean).map(decode);
  const version = decode(path.slice(at + 1));
  if (segments.length === 0 || !version) return undefined;
  const name = nameIn(ecosystem, segments);
  return name ? { purl: purl.trim(), ecosystem, name, version } : undefined;
}

function nameIn(ecosystem: Ecosystem, segments: string[]): string | undefined {
  const last = segments.at(-1)!;
  switch (ecosystem) {
    case 'npm':
      return segments.join('/');
    case 'PyPI':
      return normalisePypi(last);
    case 'Maven':
      return segments.length >= 2 ? `${segments.slice(0, -1).join('.')}:${last}` : undefined;
    case 'Go':
      return segments.join('/');
    case 'crates.io':
      return last;
  }
}

/** PEP 503: names compare lowercase with runs of `-`, `_` and `.` as one `-`. */
export const normalisePypi = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

/** The key an advisory and a component meet on. */
export const packageKey = (ecosystem: string, name: string): string =>
  `${ecosystem}\0${ecosystem === 'PyPI' ? normalisePypi(name) : name}`;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
