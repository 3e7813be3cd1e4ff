import type { VersionRecord, VersionSummary } from '../../ports.ts';
import { toAttributes } from './dynamoDbExpression.ts';
import { type Item, packageKey } from './dynamoDbItems.ts';
import type { DynamoTable } from './dynamoDbTable.ts';
import { withVersionFilesAll } from './dynamoDbVersionFiles.ts';

/**
 * Retention's candidates in one package, read by age through gsi1 (a package's versions sorted by
 * commit time, each entry a few hundred bytes with its `state`): the newest `keepLast` live entries,
 * whose oldest bounds the candidates, then only the live entries older than that bound and than
 * `createdBefore`. The versions in between (young, or among the newest) are never read, and only the
 * candidates are read whole (consistent), for their files. The index lags the table a little: an
 * entry it has not caught up with can only move the bound to an older version (retention keeps
 * more), and every tombstone is a conditional write on the version as it is.
 */
export async function retentionCandidates(
  table: DynamoTable,
  namespace: string,
  pkg: string,
  keepLast: number,
  createdBefore: Date,
): Promise<VersionSummary[]> {
  const partition = packageKey(namespace, pkg);
  let bound = createdBefore.toISOString(); // a gsi1sk is `<createdAt>#…`: below it is "before"
  if (keepLast > 0) {
    const newest = await liveEntries(table, partition, { limit: keepLast });
    if (newest.length < keepLast) return [];
    const oldestKept = newest.at(-1)!.gsi1sk as string;
    if (oldestKept < bound) bound = oldestKept;
  }
  const old = await liveEntries(table, partition, { below: bound });
  const listed = (await table.getListed(old)).filter((item) => item.state === 'live');
  const versions = await withVersionFilesAll(table, listed);
  return versions.map((item) => ({
    namespace: item.namespace as string,
    package: item.package as string,
    version: item.version as string,
    state: item.state as VersionRecord['state'],
    createdAt: item.createdAt as string,
    sha256s: (item.files as VersionRecord['files']).map((f) => f.sha256),
  }));
}

/** Live version entries of gsi1, newest first: the first `limit`, or all below a sort key. */
async function liveEntries(
  table: DynamoTable,
  partition: string,
  range: { readonly limit?: number; readonly below?: string },
): Promise<Item[]> {
  const found: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.query({
      IndexName: table.indexes.gsi1,
      KeyConditionExpression: `#gsi1pk = :pk${range.below ? ' AND #gsi1sk < :below' : ''}`,
      FilterExpression: '#state = :live',
      ExpressionAttributeNames: {
        '#gsi1pk': 'gsi1pk',
        '#state': 'state',
        ...(range.below ? { '#gsi1sk': 'gsi1sk' } : {}),
      },
      ExpressionAttributeValues: toAttributes({
        ':pk': partition,
        ':live': 'live',
        ...(range.below ? { ':below': range.below } : {}),
      }),
      ScanIndexForward: false,
      ...(range.limit ? { Limit: range.limit - found.length } : {}),
      ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
    });
    found.push(...page.items);
    start = page.lastKey;
  } while (start && (range.limit === undefined || found.length < range.limit));
  return range.limit === undefined ? found : found.slice(0, range.limit);
}
