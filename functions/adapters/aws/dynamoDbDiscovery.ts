import { isString, parsePosition } from '../../core/cursor.ts';
import type { Page } from '../../ports.ts';
import { toAttributes } from './dynamoDbExpression.ts';
import { workLists } from './dynamoDbItems.ts';
import type { DynamoTable } from './dynamoDbTable.ts';

/**
 * Namespaces and their packages, read from the `PACKAGES` work list (gsi2, sort key `<ns>#<pkg>`,
 * written by the first commit of each package) and the `POLICIES` list. `#` sorts before every
 * character a name may hold and `$` right after it, so a namespace's packages are exactly the sort
 * keys from `<ns>#` to `<ns>$`, and no other namespace's key falls between them.
 */
export class DynamoDbDiscovery {
  constructor(private readonly table: DynamoTable) {}

  /**
   * One query of one item per namespace: each jumps past the previous namespace's packages, so the
   * cost grows with the number of namespaces, not of packages.
   */
  async listNamespaces(policyNamespaces: Iterable<string>): Promise<string[]> {
    const found = new Set(policyNamespaces);
    let from: string | undefined;
    for (;;) {
      // A key condition may not compare with an empty string: the first query has none.
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
        Limit: 1,
      });
      const namespace = page.items[0]?.namespace as string | undefined;
      if (namespace === undefined) break;
      found.add(namespace);
      from = `${namespace}$`;
    }
    return [...found].sort();
  }

  /** The namespace's package names in order; the position is `[package]` of the last one. */
  async listNamespacePackages(namespace: string, limit: number, after?: string): Promise<Page<string>> {
    const from = after === undefined ? '' : (parsePosition(after, [isString]) as [string])[0];
    const names: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.query({
        IndexName: this.table.indexes.gsi2,
        KeyConditionExpression: '#gsi2pk = :list AND #gsi2sk BETWEEN :low AND :high',
        ExpressionAttributeNames: { '#gsi2pk': 'gsi2pk', '#gsi2sk': 'gsi2sk' },
        ExpressionAttributeValues: toAttributes({
          ':list': workLists.packages,
          ':low': `${namespace}#${from}`,
          ':high': `${namespace}$`,
        }),
        Limit: limit + 2 - names.length,
        ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
      });
      // BETWEEN is inclusive: the package the last page ended on comes back first; skip it.
      names.push(...page.items.map((i) => i.package as string).filter((name) => name > from));
      start = page.lastKey;
    } while (start && names.length <= limit);
    const shown = names.slice(0, limit);
    return { items: shown, ...(names.length > limit ? { next: JSON.stringify([shown.at(-1)]) } : {}) };
  }
}
