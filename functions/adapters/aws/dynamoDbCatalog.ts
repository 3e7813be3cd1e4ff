import { isString, parsePosition } from '../../core/cursor.ts';
import type { AuditEvent, NamespacePolicy, Page, VersionRecord, VersionSummary } from '../../ports.ts';
import { later } from './dynamoDbBlobs.ts';
import { toAttributes } from './dynamoDbExpression.ts';
import {
  auditItem,
  auditOf,
  auditPartitions,
  type Item,
  keys,
  packageKey,
  workLists,
} from './dynamoDbItems.ts';
import type { DynamoTable } from './dynamoDbTable.ts';
import { withVersionFilesAll } from './dynamoDbVersionFiles.ts';

/** A `next` position: `[sk, pk]` of the last audit event, or `[namespace, package]` of the last package. */
const parseStrings = (after: string) => parsePosition(after, [isString, isString]) as [string, string];

/** Policies, the audit log and the listings GC's retention walks. */
export class DynamoDbCatalog {
  constructor(private readonly table: DynamoTable) {}

  async getPolicy(namespace: string): Promise<NamespacePolicy | null> {
    const item = await this.table.get(keys.policy(namespace));
    return item ? (item.policy as NamespacePolicy) : null;
  }

  /**
   * gsi2 `POLICIES`: every policy written since the list existed (a policy put before is listed once
   * put again). The list holds their keys; the policies themselves are read from the table.
   */
  async listPolicies(): Promise<Map<string, NamespacePolicy>> {
    const listed = await this.table.workList(workLists.policies, '~', 100_000);
    const items = await this.table.getListed(listed);
    return new Map(items.map((i) => [i.namespace as string, i.policy as NamespacePolicy]));
  }

  async putPolicy(namespace: string, policy: NamespacePolicy, audit: AuditEvent): Promise<void> {
    await this.table.transact([
      {
        Put: {
          TableName: this.table.name,
          Item: toAttributes({
            ...keys.policy(namespace),
            kind: 'policy',
            namespace,
            policy,
            gsi2pk: workLists.policies,
            gsi2sk: namespace,
          }),
        },
      },
      { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
    ]);
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.table.put(auditItem(event));
  }

  /**
   * One namespace: a range query on its partition, sorted by time. Every namespace: the log has no
   * single order across partitions, so this walks the table in parallel Scan segments and sorts; it is
   * an admin's occasional read, and a namespace filter keeps it a query.
   */
  async listAudit(
    filter: { namespace?: string; since?: string },
    limit: number,
    after?: string,
  ): Promise<Page<AuditEvent>> {
    const [afterSk, afterPk] = after === undefined ? ['', ''] : parseStrings(after);
    const from = later(afterSk, filter.since ?? '');
    const beyond = (i: Item) =>
      (i.sk as string) > afterSk || ((i.sk as string) === afterSk && (i.pk as string) > afterPk);
    let items: Item[];
    if (filter.namespace !== undefined) {
      const shards = await Promise.all(
        auditPartitions(filter.namespace).map((pk) => this.auditShard(pk, from, limit + 1, beyond)),
      );
      items = shards.flat().sort(byTimeThenPartition);
    } else {
      const all = await this.table.scanAll({
        FilterExpression: '#kind = :audit AND #sk >= :from',
        ExpressionAttributeNames: { '#kind': 'kind', '#sk': 'sk' },
        ExpressionAttributeValues: toAttributes({ ':audit': 'audit', ':from': from }),
        ConsistentRead: true,
      });
      items = all.filter(beyond).sort(byTimeThenPartition);
    }
    const shown = items.slice(0, limit);
    const last = shown.at(-1);
    return {
      items: shown.map(auditOf),
      ...(items.length > limit && last ? { next: JSON.stringify([last.sk, last.pk]) } : {}),
    };
  }

  /** Up to `wanted` events of one audit partition from `from` on that lie beyond the page's position. */
  private async auditShard(
    pk: string,
    from: string,
    wanted: number,
    beyond: (item: Item) => boolean,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      // DynamoDB refuses an empty string in a key condition: no lower bound is no sk condition.
      const page = await this.table.query({
        KeyConditionExpression: from ? '#pk = :pk AND #sk >= :from' : '#pk = :pk',
        ExpressionAttributeNames: from ? { '#pk': 'pk', '#sk': 'sk' } : { '#pk': 'pk' },
        ExpressionAttributeValues: toAttributes({ ':pk': pk, ...(from ? { ':from': from } : {}) }),
        Limit: wanted,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
      });
      items.push(...page.items.filter(beyond));
      start = page.lastKey;
    } while (start && items.length < wanted);
    return items;
  }

  /** gsi2 `PACKAGES`, sorted by `<ns>#<pkg>`; the position is `[namespace, package]`, as GC resumes. */
  async listPackages(limit: number, after?: string): Promise<Page<{ namespace: string; package: string }>> {
    const from = after === undefined ? '' : parseStrings(after).join('#');
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.table.query({
        IndexName: this.table.indexes.gsi2,
        KeyConditionExpression: from ? '#gsi2pk = :list AND #gsi2sk > :from' : '#gsi2pk = :list',
        ExpressionAttributeNames: from
          ? { '#gsi2pk': 'gsi2pk', '#gsi2sk': 'gsi2sk' }
          : { '#gsi2pk': 'gsi2pk' },
        ExpressionAttributeValues: toAttributes({
          ':list': workLists.packages,
          ...(from ? { ':from': from } : {}),
        }),
        Limit: limit - items.length,
        ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
      });
      items.push(...page.items);
      start = page.lastKey;
    } while (start && items.length < limit);
    const packages = items.map((i) => ({ namespace: i.namespace as string, package: i.package as string }));
    const last = packages.at(-1);
    return {
      items: packages,
      ...(packages.length === limit && last ? { next: JSON.stringify([last.namespace, last.package]) } : {}),
    };
  }

  /** The package's version items from its own partition (consistent), newest commit first. */
  async listVersionSummaries(namespace: string, pkg: string): Promise<VersionSummary[]> {
    const listed = await this.table.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      // Where a version keeps its files too (`fileItems`, `uploadId`): read with them below.
      ProjectionExpression:
        '#pk, #sk, #namespace, #package, #version, #state, #createdAt, #tombstonedAt, #files, #gsi1sk, ' +
        '#uploadId, #fileItems',
      ExpressionAttributeNames: Object.fromEntries(
        [
          'pk',
          'sk',
          'namespace',
          'package',
          'version',
          'state',
          'createdAt',
          'tombstonedAt',
          'files',
          'gsi1sk',
          'uploadId',
          'fileItems',
        ].map((n) => [`#${n}`, n]),
      ),
      ExpressionAttributeValues: toAttributes({
        ':pk': packageKey(namespace, pkg),
        ':prefix': 'VERSION#',
      }),
      ConsistentRead: true,
    });
    const items = await withVersionFilesAll(this.table, listed);
    return items
      .sort((a, b) => ((a.gsi1sk as string) < (b.gsi1sk as string) ? 1 : -1))
      .map((i) => ({
        namespace: i.namespace as string,
        package: i.package as string,
        version: i.version as string,
        state: i.state as VersionRecord['state'],
        createdAt: i.createdAt as string,
        ...(i.tombstonedAt === undefined ? {} : { tombstonedAt: i.tombstonedAt as string }),
        sha256s: (i.files as VersionRecord['files']).map((f) => f.sha256),
      }));
  }
}

/** The audit log's order across partitions: time (the sort key), then partition. */
const byTimeThenPartition = (a: Item, b: Item): number =>
  a.sk === b.sk
    ? (a.pk as string) < (b.pk as string)
      ? -1
      : 1
    : (a.sk as string) < (b.sk as string)
      ? -1
      : 1;
