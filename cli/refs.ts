import { isNamespace, isPackage, isStage, isVersion } from '../functions/core/names.ts';
import { UsageError } from './errors.ts';

export interface PackageRef {
  readonly namespace: string;
  readonly package: string;
}

export interface VersionRef extends PackageRef {
  readonly version: string;
}

/** `<ns>/<pkg>`, checked against the contract's name rules so typos fail before any request. */
export function parsePackageRef(text: string | undefined): PackageRef {
  if (!text) throw new UsageError('missing <namespace>/<package>');
  const [namespace, pkg, ...rest] = text.split('/');
  if (!namespace || !pkg || rest.length > 0) {
    throw new UsageError(`expected <namespace>/<package>, got ${JSON.stringify(text)}`);
  }
  if (!isNamespace(namespace)) throw new UsageError(`invalid namespace ${JSON.stringify(namespace)}`);
  if (!isPackage(pkg)) throw new UsageError(`invalid package ${JSON.stringify(pkg)}`);
  return { namespace, package: pkg };
}

/** `<ns>/<pkg>@<version>`; with `allowStage`, the part after `@` may also name a stage. */
export function parseVersionRef(text: string | undefined, what = '<version>'): VersionRef {
  if (!text) throw new UsageError(`missing <namespace>/<package>@${what}`);
  const at = text.lastIndexOf('@');
  if (at < 0) throw new UsageError(`expected <namespace>/<package>@${what}, got ${JSON.stringify(text)}`);
  const version = text.slice(at + 1);
  if (!isVersion(version) && !isStage(version)) {
    throw new UsageError(`invalid version or stage ${JSON.stringify(version)}`);
  }
  return { ...parsePackageRef(text.slice(0, at)), version };
}

export const formatRef = (ref: VersionRef): string => `${ref.namespace}/${ref.package}@${ref.version}`;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90s`, `15m`, `2h`, `1d` or bare seconds → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid duration ${JSON.stringify(text)} (use e.g. 90s, 15m, 2h)`);
  return Number(m[1]) * UNITS[m[2] || 's']!;
}

/** `k=v` pairs of `--meta` into a record; a key given twice is a usage error. */
export function parseMetadata(pairs: readonly string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--meta expects key=value, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq);
    if (key in metadata) throw new UsageError(`--meta ${key} is given twice`);
    metadata[key] = pair.slice(eq + 1);
  }
  return metadata;
}
