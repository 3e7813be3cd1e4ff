import { authorize, readableNamespaces } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
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
 * namespaces the caller may read are ever read (no namespace is named, so none is refused). By
 * metadata: the namespace is named, so a caller who may not read it gets 403.
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
  const after = query.cursor === undefined ? undefined : deps.cursors.decode(scope, query.cursor);
  const page =
    query.by === 'sha256'
      ? await deps.index.searchByBlob(query.sha256, readableNamespaces(caller.principal), query.limit, after)
      : await deps.index.searchByMetadata(query.namespace, query.key, query.value, query.limit, after);
  return {
    items: await describeAcrossPackages(deps, page.items),
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
