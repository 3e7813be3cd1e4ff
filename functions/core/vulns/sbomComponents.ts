import { type Component, componentOf } from './purl.ts';

/**
 * The components an SBOM lists, read from CycloneDX JSON (1.4–1.6: `components[]`, nested ones
 * and `metadata.component` included) or SPDX 2.x JSON (`packages[]` with a `purl` external
 * reference, whose version is `versionInfo` when the purl has none). Components without a purl of
 * a matched ecosystem are left out: they cannot be matched against advisories.
 */
export function componentsOf(
  document: unknown,
): { format: 'CycloneDX' | 'SPDX'; components: Component[] } | undefined {
  if (!isObject(document)) return undefined;
  if (document.bomFormat === 'CycloneDX')
    return { format: 'CycloneDX', components: unique(cycloneDx(document)) };
  if (typeof document.spdxVersion === 'string') return { format: 'SPDX', components: unique(spdx(document)) };
  return undefined;
}

function* cycloneDx(bom: Record<string, unknown>): Generator<Component> {
  const stack: unknown[] = [];
  if (isObject(bom.metadata) && isObject(bom.metadata.component)) stack.push(bom.metadata.component);
  if (Array.isArray(bom.components)) stack.push(...bom.components);
  while (stack.length > 0) {
    const item = stack.pop();
    if (!isObject(item)) continue;
    if (Array.isArray(item.components)) stack.push(...item.components);
    const component = typeof item.purl === 'string' ? componentOf(item.purl) : undefined;
    if (component) yield component;
  }
}

function* spdx(document: Record<string, unknown>): Generator<Component> {
  for (const pkg of Array.isArray(document.packages) ? document.packages : []) {
    if (!isObject(pkg) || !Array.isArray(pkg.externalRefs)) continue;
    for (const ref of pkg.externalRefs) {
      if (!isObject(ref) || ref.referenceType !== 'purl' || typeof ref.referenceLocator !== 'string')
        continue;
      const locator = ref.referenceLocator;
      const versioned =
        !/@[^/]+$/.test(locator.split(/[?#]/)[0]!) && typeof pkg.versionInfo === 'string'
          ? `${locator.split(/[?#]/)[0]}@${encodeURIComponent(pkg.versionInfo)}`
          : locator;
      const component = componentOf(versioned);
      if (component) yield component;
    }
  }
}

function unique(components: Iterable<Component>): Component[] {
  const byPurl = new Map<string, Component>();
  for (const c of components) byPurl.set(`${c.ecosystem}\0${c.name}\0${c.version}`, c);
  return [...byPurl.values()];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
