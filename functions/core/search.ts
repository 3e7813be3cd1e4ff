import { authorize, readableNamespaces } from './auth.ts';
import { boundedPage } from './boundedPage.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { ForbiddenError } from './errors.ts';
import type { Version, VersionRecord } from './model.ts';
import { describeVersions } from './versions.ts';

/** What GET /v1/search asks: the versions holding a blob, or those with one exact metadata value. */
export type SearchQuery =
  | { readonly by: 'sha256'; readonly sha256: string }
  | { readonly by: 'metadata'; readonly namespace: string; readonly key: string; readonly value: string };

export interface SearchResult {
  readonly items: readonly Version[];
  readonly nextCursor: string | null;
}

/**
 * Finds versions through the index's search entries (never a scan). By blob: only versions in
 * namespaces the caller may read are ever read (a blob held elsewhere answers no items, not 403). By
 * metadata: the namespace is named, so a caller who may not read it gets 403. A caller who may read
 * no namespace at all gets 403 either way.
 */
export async function searchVersions(
  deps: CoreDeps,
  caller: Caller,
  query: SearchQuery & { readonly limit: number; readonly cursor?: string },
): Promise<SearchResult> {
  const scope =
    query.by === 'sha256'
      ? `search:sha256:${query.sha256}`
      : `search:metadata:${JSON.stringify([query.namespace, query.key, query.value])}`;
  if (query.by === 'metadata') authorize(caller.principal, query.namespace, 'read');
  const readable = readableNamespaces(caller.principal);
  // Fails closed: a caller who may read nothing has nothing to search, and is told so.
  if (readable !== '*' && readable.length === 0)
    throw new ForbiddenError(`${caller.principal.id} may read no namespace`, { details: { role: 'read' } });
  const after = query.cursor === undefined ? undefined : deps.cursors.decode(scope, query.cursor);
  const page = await boundedPage(
    query.limit,
    deps.config.maxPageBytes,
    (limit) =>
      query.by === 'sha256'
        ? deps.index.searchByBlob(query.sha256, readable, limit, after)
        : deps.index.searchByMetadata(query.namespace, query.key, query.value, limit, after),
    (records) => describeAcrossPackages(deps, records),
  );
  return {
    items: page.items,
    nextCursor: page.next === undefined ? null : deps.cursors.encode(scope, page.next),
  };
}

/** `describeVersions` takes one package at a time: describe each package's group, keep the order. */
async function describeAcrossPackages(deps: CoreDeps, records: readonly VersionRecord[]): Promise<Version[]> {
  const groups = new Map<string, VersionRecord[]>();
  for (const r of records) {
    const key = `${r.namespace}/${r.package}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const described = new Map<VersionRecord, Version>();
  for (const group of groups.values()) {
    const versions = await describeVersions(deps, group);
    for (const [i, r] of group.entries()) described.set(r, versions[i]!);
  }
  return records.map((r) => described.get(r)!);
}
