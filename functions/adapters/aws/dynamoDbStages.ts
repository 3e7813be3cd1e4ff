import {
  ConflictError,
  NotFoundError,
  NotPromotableError,
  StageImmutableError,
  StageOrderViolationError,
} from '../../core/errors.ts';
import type { AuditEvent, PackageStages, PromoteInput, Promotion, StageView } from '../../ports.ts';
import { toAttributes } from './dynamoDbExpression.ts';
import { type Item, keys, packageKey, promotionPrefix } from './dynamoDbItems.ts';
import { promotionTransaction } from './dynamoDbPromotion.ts';
import type { DynamoTable } from './dynamoDbTable.ts';

/** Promotions that lost a race for the pointer re-read and try again this many times. */
const MAX_REBUILDS = 10;

const promotionOf = (item: Item): Promotion => ({
  stage: item.stage as string,
  version: item.version as string,
  previousVersion: (item.previousVersion as string | null) ?? null,
  promotedAt: item.promotedAt as string,
  by: item.by as string,
});

/**
 * Stage pointers and their history (docs/table-design.md § Stages). The version item carries the set
 * of stages naming it (`pointedBy`), kept by the same transaction that moves a pointer, so a
 * tombstone can refuse a pointed-at version in its own condition.
 */
export class DynamoDbStages {
  constructor(private readonly table: DynamoTable) {}

  async promote(input: PromoteInput, audit: AuditEvent): Promise<{ previousVersion: string | null }> {
    const { namespace: ns, package: pkg, version, stage, requirePriorStage: prior } = input;
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const [found, pointer, priorMarker] = await Promise.all([
        this.table.get(keys.version(ns, pkg, version)),
        this.table.get(keys.stage(ns, pkg, stage)),
        prior ? this.table.get(keys.promoted(ns, pkg, version, prior)) : null,
      ]);
      if (!found) throw new NotFoundError(`version ${ns}/${pkg}@${version} not found`);
      if (found.state !== 'live')
        throw new NotPromotableError(
          `version ${ns}/${pkg}@${version} is ${found.state === 'deleted' ? 'deleted' : 'being deleted'}`,
          { details: { state: found.state } },
        );
      if (prior && !priorMarker) {
        throw new StageOrderViolationError(`${version} must be promoted to ${prior} before ${stage}`, {
          details: { requiredStage: prior },
        });
      }
      const current = (pointer?.version as string | undefined) ?? null;
      if (current === version) return { previousVersion: current };
      if (input.immutable && current !== null) {
        throw new StageImmutableError(`stage ${stage} is immutable and already names ${current}`, {
          details: { current },
        });
      }
      const seen = pointer?.promotions as number | undefined;
      const audited = { ...audit, details: { ...audit.details, previousVersion: current } };
      if (
        !(await this.table.transact(promotionTransaction(this.table.name, input, current, seen, audited)))
      ) {
        return { previousVersion: current };
      }
      // A condition failed: another promotion, a tombstone or a GC step moved first. Re-read.
    }
    throw new ConflictError(`stage ${stage} of ${ns}/${pkg} kept moving during the promotion; try again`);
  }

  async getStage(
    namespace: string,
    pkg: string,
    stage: string,
    historyLimit: number,
  ): Promise<StageView | null> {
    const pointer = await this.table.get(keys.stage(namespace, pkg, stage));
    if (!pointer) return null;
    const history =
      historyLimit > 0
        ? (await this.history(namespace, pkg, stage, historyLimit)).items.map(promotionOf)
        : [];
    return { stage, version: pointer.version as string, promotedAt: pointer.promotedAt as string, history };
  }

  /** Pointers from one query; per stage, the newest history entries until `perStage` distinct versions. */
  async getPackageStages(namespace: string, pkg: string, perStage: number): Promise<PackageStages> {
    const pointerItems = await this.table.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: toAttributes({
        ':pk': packageKey(namespace, pkg),
        ':prefix': 'STAGE#',
      }),
      ConsistentRead: true,
    });
    const pointers = new Map(pointerItems.map((p) => [p.stage as string, p.version as string]));
    const promoted = new Map<string, string[]>();
    await Promise.all(
      [...pointers.keys()].map(async (stage) => {
        promoted.set(stage, await this.distinctPromoted(namespace, pkg, stage, perStage));
      }),
    );
    return { pointers, promoted };
  }

  private async distinctPromoted(namespace: string, pkg: string, stage: string, count: number) {
    const versions: string[] = [];
    let start: Item | undefined;
    while (versions.length < count) {
      const page = await this.history(namespace, pkg, stage, Math.max(2 * count, 10), start);
      for (const item of page.items) {
        const v = item.version as string;
        if (versions.length < count && !versions.includes(v)) versions.push(v);
      }
      start = page.lastKey;
      if (!start) break;
    }
    return versions;
  }

  /** A stage's history, newest promotion first. */
  private history(namespace: string, pkg: string, stage: string, limit: number, start?: Item) {
    return this.table.query({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: toAttributes({
        ':pk': packageKey(namespace, pkg),
        ':prefix': promotionPrefix(stage),
      }),
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
      ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
    });
  }
}
