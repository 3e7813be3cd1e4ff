/**
 * The part of `semver` (npm's own SemVer implementation, already in the dependency tree) that the
 * version ordering uses; the package ships no types of its own.
 */
declare module 'semver' {
  export function valid(version: string): string | null;
  export function compare(a: string, b: string): -1 | 0 | 1;
}
