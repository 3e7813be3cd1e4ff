import { authorize, readableNamespaces } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';

export interface NamespaceList {
  readonly items: readonly { readonly name: string }[];
}

/**
 * The namespaces the caller can read, among those that exist (have versions or a policy), sorted by
 * name. Nothing of a namespace the caller cannot read is named.
 */
export async function listNamespaces(deps: CoreDeps, caller: Caller): Promise<NamespaceList> {
  const readable = readableNamespaces(caller.principal);
  if (readable !== '*' && readable.length === 0) return { items: [] };
  const all = await deps.index.listNamespaces();
  const shown = readable === '*' ? all : all.filter((ns) => readable.includes(ns));
  return { items: shown.map((name) => ({ name })) };
}

/** A package as the namespace listing shows it. */
export interface PackageSummary {
  readonly name: string;
  /** The newest version not deleted; null when every version was deleted. */
  readonly latestVersion: string | null;
  /** When its newest version (deleted ones included) was committed. */
  readonly updatedAt: string | null;
  /** Each stage's current version. */
  readonly stages: Readonly<Record<string, string>>;
}

export interface PackageList {
  readonly items: readonly PackageSummary[];
  readonly nextCursor: string | null;
}

/**
 * A namespace's packages, sorted by name, paged. Read role in the namespace: an unreadable one is a
 * 403 whether it exists or not (as every route), and a readable one without packages lists empty.
 */
export async function listPackages(
  deps: CoreDeps,
  caller: Caller,
  ref: { readonly namespace: string; readonly limit: number; readonly cursor?: string },
): Promise<PackageList> {
  authorize(caller.principal, ref.namespace, 'read');
  const scope = `packages:${ref.namespace}`;
  const after = ref.cursor === undefined ? undefined : deps.cursors.decode(scope, ref.cursor);
  const page = await deps.index.listNamespacePackages(ref.namespace, ref.limit, after);
  return {
    items: await Promise.all(page.items.map((name) => summarize(deps, ref.namespace, name))),
    nextCursor: page.next === undefined ? null : deps.cursors.encode(scope, page.next),
  };
}

async function summarize(deps: CoreDeps, namespace: string, pkg: string): Promise<PackageSummary> {
  const { index } = deps;
  const [newest, stages] = await Promise.all([
    index.listVersions(namespace, pkg, 1, undefined, { includeDeleted: true }),
    index.getPackageStages(namespace, pkg, 0),
  ]);
  const first = newest.items[0];
  const latest =
    first === undefined || first.state !== 'deleted'
      ? first
      : (await index.listVersions(namespace, pkg, 1)).items[0];
  return {
    name: pkg,
    latestVersion: latest?.version ?? null,
    updatedAt: first?.createdAt ?? null,
    stages: Object.fromEntries([...stages.pointers].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}
