/**
 * What makes an archive entry unsafe to extract: a name or a link that lands outside the directory it
 * is extracted into (the "zip slip" / "tar slip" family). Backslashes count as separators, since
 * Windows tools honour them.
 */

const segmentsOf = (path: string): string[] => path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');

const isAbsolute = (path: string): boolean => /^[\\/]/.test(path) || /^[A-Za-z]:/.test(path);

/** Why an entry's own name is unsafe, or undefined. */
export function entryPathProblem(path: string): string | undefined {
  if (isAbsolute(path)) return 'is an absolute path';
  // Any `..` is refused, not only one that climbs above the root: behind a symlinked directory,
  // `dir/../x` lands wherever the link points.
  if (segmentsOf(path).includes('..')) return 'has a ".." segment';
  if (path.includes('\0')) return 'contains a NUL byte';
  return undefined;
}

/**
 * Why a link entry is unsafe, or undefined. A symlink's target is relative to the link's directory;
 * a hard link's names another entry of the archive, from the archive's root.
 */
export function linkProblem(path: string, target: string, hardLink: boolean): string | undefined {
  if (target === '') return undefined;
  if (isAbsolute(target)) return 'an absolute target';
  const start = hardLink ? [] : segmentsOf(path).slice(0, -1);
  let depth = start.length;
  for (const segment of segmentsOf(target)) {
    depth += segment === '..' ? -1 : 1;
    if (depth < 0) return 'a target outside the extraction directory';
  }
  return undefined;
}

/** Entry names that SBOM tools write: `*.cdx.json`, `*.spdx.json`, `bom.json`, `sbom.xml`, … */
export function looksLikeSbom(path: string): boolean {
  const name = segmentsOf(path).at(-1)?.toLowerCase() ?? '';
  return (
    /\.(cdx|spdx)(\.(json|xml|ya?ml|rdf|tv))?$/.test(name) || /^s?bom(\.[a-z0-9-]+)*\.(json|xml)$/.test(name)
  );
}
