import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { AuditEvent, Lease } from '../../ports.ts';
import { expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { auditItem, type Item, keys, leaseList } from './dynamoDbItems.ts';
import type { DynamoTable } from './dynamoDbTable.ts';

const MAX_REBUILDS = 10;
/** Lease items outlive their expiry this long, so a late renew is told "expired", not "unknown". */
const LEASE_RETENTION_SECONDS = 30 * 86_400;
/**
 * Leases that expired this long before a new one is taken leave the version's lease map (it would
 * otherwise grow with every deploy); the margin absorbs clock skew between API and GC hosts.
 */
const PRUNE_AFTER_MS = 3_600_000;

/** leaseId → expiresAt, on the version item. */
type LeaseMap = Record<string, string>;

function leaseItem(lease: Lease): Item {
  return {
    ...keys.lease(lease.leaseId),
    kind: 'lease',
    ...lease,
    gsi1pk: leaseList(lease.namespace, lease.package),
    gsi1sk: `${lease.expiresAt}#${lease.leaseId}`,
    ttl: Math.floor(Date.parse(lease.expiresAt) / 1000) + LEASE_RETENTION_SECONDS,
  };
}

const leaseOf = (item: Item): Lease => ({
  leaseId: item.leaseId as string,
  namespace: item.namespace as string,
  package: item.package as string,
  version: item.version as string,
  holder: item.holder as string,
  createdAt: item.createdAt as string,
  createdBy: item.createdBy as string,
  expiresAt: item.expiresAt as string,
});

/**
 * Leases (docs/table-design.md § Leases). Each lease is its own item (found by id, listed per package
 * on gsi1), and the version item keeps a map of its leases with `leaseUntil`, the latest expiry among
 * them: a tombstone's condition `leaseUntil <= now` is then "no lease unexpired at now". Every lease
 * change rewrites the map on the condition that `leaseRev` is still what was read.
 */
export class DynamoDbLeases {
  constructor(private readonly table: DynamoTable) {}

  async acquireLease(lease: Lease, audit: AuditEvent): Promise<void> {
    const { namespace: ns, package: pkg, version } = lease;
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const found = await this.table.get(keys.version(ns, pkg, version));
      if (!found) throw new NotFoundError(`version ${ns}/${pkg}@${version} not found`);
      if (found.state === 'deleted') throw new ConflictError(`version ${version} is deleted`);
      if (found.state !== 'live')
        throw new ConflictError(`version ${version} is being deleted; restore it first`);
      const keepFrom = new Date(Date.parse(lease.createdAt) - PRUNE_AFTER_MS).toISOString();
      const kept = Object.entries((found.leases as LeaseMap | undefined) ?? {}).filter(
        ([, exp]) => exp > keepFrom,
      );
      const leases = { ...Object.fromEntries(kept), [lease.leaseId]: lease.expiresAt };
      const reasons = await this.table.transact([
        {
          Put: {
            TableName: this.table.name,
            Item: toAttributes(leaseItem(lease)),
            ...expression({ condition: 'attribute_not_exists(#pk)' }),
          },
        },
        this.versionLeases(found, leases, true),
        { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
      ]);
      if (!reasons) return;
      if (reasons[0]?.code === 'ConditionalCheckFailed')
        throw new ConflictError(`lease ${lease.leaseId} exists`);
    }
    throw new ConflictError(`version ${version} kept changing while the lease was taken; try again`);
  }

  async getLease(leaseId: string): Promise<Lease | null> {
    const item = await this.table.get(keys.lease(leaseId));
    return item ? leaseOf(item) : null;
  }

  async renewLease(leaseId: string, expiresAt: Date, now: Date, audit: AuditEvent): Promise<Lease> {
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const item = await this.table.get(keys.lease(leaseId));
      if (!item) throw new NotFoundError(`lease ${leaseId} not found`);
      const lease = leaseOf(item);
      if (lease.expiresAt <= now.toISOString())
        throw new ConflictError(`lease ${leaseId} expired at ${lease.expiresAt}`);
      const found = await this.table.get(keys.version(lease.namespace, lease.package, lease.version));
      if (!found) throw new ConflictError(`the version lease ${leaseId} holds no longer exists`);
      const renewed = { ...lease, expiresAt: expiresAt.toISOString() };
      const leases = { ...((found.leases as LeaseMap | undefined) ?? {}), [leaseId]: renewed.expiresAt };
      const next = leaseItem(renewed);
      const reasons = await this.table.transact([
        {
          Update: {
            TableName: this.table.name,
            Key: toAttributes(keys.lease(leaseId)),
            ...updateExpression({
              update: 'SET #expiresAt = :exp, #gsi1sk = :order, #ttl = :ttl',
              condition: '#expiresAt = :read',
              values: {
                ':exp': next.expiresAt,
                ':order': next.gsi1sk,
                ':ttl': next.ttl,
                ':read': lease.expiresAt,
              },
            }),
          },
        },
        this.versionLeases(found, leases, false),
        { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
      ]);
      if (!reasons) return renewed;
    }
    throw new ConflictError(`lease ${leaseId} kept changing during the renewal; try again`);
  }

  async releaseLease(leaseId: string, audit: AuditEvent): Promise<void> {
    for (let attempt = 0; attempt < MAX_REBUILDS; attempt++) {
      const item = await this.table.get(keys.lease(leaseId));
      if (!item) throw new NotFoundError(`lease ${leaseId} not found`);
      const lease = leaseOf(item);
      const found = await this.table.get(keys.version(lease.namespace, lease.package, lease.version));
      const { [leaseId]: _released, ...leases } = (found?.leases as LeaseMap | undefined) ?? {};
      const reasons = await this.table.transact([
        {
          Delete: {
            TableName: this.table.name,
            Key: toAttributes(keys.lease(leaseId)),
            ...expression({ condition: 'attribute_exists(#pk)' }),
          },
        },
        { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
        ...(found ? [this.versionLeases(found, leases, false)] : []),
      ]);
      if (!reasons) return;
      if (reasons[0]?.code === 'ConditionalCheckFailed')
        throw new NotFoundError(`lease ${leaseId} not found`);
    }
    throw new ConflictError(`lease ${leaseId} kept changing during the release; try again`);
  }

  /** Reads gsi1 from `now` on: leases sort there by expiry. */
  async activeLeases(namespace: string, pkg: string, now: Date): Promise<Lease[]> {
    const items = await this.table.queryAll({
      IndexName: this.table.indexes.gsi1,
      KeyConditionExpression: '#gsi1pk = :list AND #gsi1sk >= :now',
      ExpressionAttributeNames: { '#gsi1pk': 'gsi1pk', '#gsi1sk': 'gsi1sk' },
      ExpressionAttributeValues: toAttributes({
        ':list': leaseList(namespace, pkg),
        ':now': now.toISOString(),
      }),
    });
    return items.map(leaseOf).filter((l) => l.expiresAt > now.toISOString());
  }

  /** The version's lease map and `leaseUntil`, rewritten on the condition nothing else changed them. */
  private versionLeases(found: Item, leases: LeaseMap, mustBeLive: boolean): TransactWriteItem {
    const rev = found.leaseRev as number | undefined;
    const until = Object.values(leases).sort().at(-1);
    const unchanged = rev === undefined ? 'attribute_not_exists(#leaseRev)' : '#leaseRev = :rev';
    return {
      Update: {
        TableName: this.table.name,
        Key: toAttributes(
          keys.version(found.namespace as string, found.package as string, found.version as string),
        ),
        ...updateExpression({
          update: `SET #leases = :leases, #leaseRev = :next${until ? ', #leaseUntil = :until' : ' REMOVE #leaseUntil'}`,
          condition: mustBeLive
            ? `${unchanged} AND #state = :live`
            : `attribute_exists(#pk) AND ${unchanged}`,
          values: {
            ':leases': leases,
            ':next': (rev ?? 0) + 1,
            ':until': until,
            ':rev': rev,
            ':live': 'live',
          },
        }),
      },
    };
  }
}
