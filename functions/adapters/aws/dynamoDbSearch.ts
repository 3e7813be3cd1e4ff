import type { Sha256, VersionPage, VersionRecord } from '../../ports.ts';
import { toAttributes } from './dynamoDbExpression.ts';
import { type Item, keys, versionOf } from './dynamoDbItems.ts';
import type { DynamoTable } from './dynamoDbTable.ts';
import { withVersionFiles } from './dynamoDbVersionFiles.ts';

/**
 * GET /v1/search on DynamoDB, from items written for it by every commit: one per (namespace, key,
 * value) of the version's metadata, sorted by commit time, and one per distinct blob, sorted by
 * (namespace, package, version). They are written before the commit's visibility switch, so an
 * entry may name a version that never became visible (a commit that died or lost its version to
 * another session): every entry is checked against the version item (same upload, still live)
 * before it is answered. A query reads only its own partition; nothing is scanned.
 */
export const searchKeys = {
  metadata: (namespace: string, key: string, value: string) =>
    `META#${JSON.stringify([namespace, key, value])}`,
  blob: (sha256: Sha256) => `BLOBREF#${sha256}`,
};

/** The search entries of a version about to be committed. */
export function searchItems(v: VersionRecord): Item[] {
  const of = {
    kind: 'search',
    namespace: v.namespace,
    package: v.package,
    version: v.version,
    uploadId: v.uploadId,
  };
  const metadata = Object.entries(v.metadata).map(([key, value]) => ({
    pk: searchKeys.metadata(v.namespace, key, value),
    sk: `${v.createdAt}#${v.uploadId}`,
    ...of,
  }));
  const blobs = [...new Set(v.files.map((f) => f.sha256))].map((sha) => ({
    pk: searchKeys.blob(sha),
    sk: `${v.namespace}#${v.package}#${v.version}#${v.uploadId}`,
    ...of,
  }));
  return [...metadata, ...blobs];
}

export class DynamoDbSearch {
  constructor(private readonly table: DynamoTable) {}

  write(v: VersionRecord): Promise<void> {
    return this.table.putMany(searchItems(v));
  }

  byBlob(
    sha256: Sha256,
    namespaces: '*' | readonly string[],
    limit: number,
    after?: string,
  ): Promise<VersionPage> {
    const readable = (entry: Item) => namespaces === '*' || namespaces.includes(entry.namespace as string);
    return this.page(searchKeys.blob(sha256), true, limit, after, readable, (v) =>
      v.files.some((f) => f.sha256 === sha256),
    );
  }

  byMetadata(
    namespace: string,
    key: string,
    value: string,
    limit: number,
    after?: string,
  ): Promise<VersionPage> {
    return this.page(
      searchKeys.metadata(namespace, key, value),
      false,
      limit,
      after,
      () => true,
      (v) => v.namespace === namespace && v.metadata[key] === value,
    );
  }

  /**
   * Reads entries of `pk` in sort-key order from `after`, keeps those `wanted` whose version is
   * visible and `holds`, until `limit` + 1 are found (the one more says whether a next page exists).
   */
  private async page(
    pk: string,
    forward: boolean,
    limit: number,
    after: string | undefined,
    wanted: (entry: Item) => boolean,
    holds: (v: VersionRecord) => boolean,
  ): Promise<VersionPage> {
    const found: { sk: string; version: VersionRecord }[] = [];
    let start: Item | undefined = after === undefined ? undefined : { pk, sk: after };
    do {
      const page = await this.table.query({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: toAttributes({ ':pk': pk }),
        ScanIndexForward: forward,
        ConsistentRead: true,
        Limit: Math.max(limit + 1 - found.length, 10),
        ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
      });
      const entries = page.items.filter(wanted);
      const versions = await this.table.getMany(
        [...new Map(entries.map((e) => [`${e.namespace}/${e.package}@${e.version}`, e])).values()].map((e) =>
          keys.version(e.namespace as string, e.package as string, e.version as string),
        ),
      );
      const byKey = new Map(versions.map((i) => [`${i.namespace}/${i.package}@${i.version}`, i]));
      for (const entry of entries) {
        const listed = byKey.get(`${entry.namespace}/${entry.package}@${entry.version}`);
        if (!listed || listed.uploadId !== entry.uploadId || listed.state !== 'live') continue;
        // A version of more than 64 files is read again with its file items (dynamoDbVersionFiles.ts).
        const item = await withVersionFiles(this.table, listed);
        if (!item || item.uploadId !== entry.uploadId || item.state !== 'live') continue;
        const version = versionOf(item);
        if (holds(version)) found.push({ sk: entry.sk as string, version });
      }
      start = page.lastKey;
    } while (start && found.length <= limit);
    const shown = found.slice(0, limit);
    const last = shown.at(-1);
    return {
      items: shown.map((f) => f.version),
      ...(found.length > limit && last ? { next: last.sk } : {}),
    };
  }
}
