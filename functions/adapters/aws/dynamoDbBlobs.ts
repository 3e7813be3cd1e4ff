import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { ScanReport } from '../../core/model.ts';
import type { BlobRecord, Sha256 } from '../../ports.ts';
import { toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { type Item, keys, workLists } from './dynamoDbItems.ts';

/** What GC's decisions about a blob depend on, as read from its item. */
export interface BlobFacts {
  readonly sha256: Sha256;
  readonly size: number;
  readonly state: BlobRecord['state'];
  readonly refcount: number;
  /**
   * Since when nothing references it, or until when a session or scan holds it: GC's grace runs
   * from here. Also kept while referenced, so a hold outlives a reference dropped later.
   */
  readonly unreferencedSince?: string;
}

export function blobFactsOf(item: Item | null): BlobFacts | null {
  if (!item) return null;
  return {
    sha256: item.sha256 as Sha256,
    size: item.size as number,
    state: item.state as BlobRecord['state'],
    refcount: item.refcount as number,
    ...(item.unreferencedSince === undefined ? {} : { unreferencedSince: item.unreferencedSince as string }),
  };
}

/** The later of two ISO times (absent is earliest). */
export const later = (a: string | undefined, b: string): string => (a !== undefined && a > b ? a : b);

/**
 * A blob is on the deletable work list exactly while nothing references it and GC is not already
 * deleting it, sorted by unreferenced-since: `listDeletableBlobs` is then a range query.
 */
function listing(next: BlobFacts): { gsi2pk: string; gsi2sk: string } | null {
  if (next.refcount !== 0 || next.state === 'deleting' || next.unreferencedSince === undefined) return null;
  return {
    gsi2pk: workLists.unreferencedBlobs(next.sha256),
    gsi2sk: `${next.unreferencedSince}#${next.sha256}`,
  };
}

/**
 * Moves a blob from the state read (`read`, null when absent) to `next`, conditioned on refcount,
 * state and unreferenced-since still being what was read: a racing commit, scan or GC step makes it
 * fail, and the caller re-reads and rebuilds. The gsi2 listing follows from `next`.
 */
export function blobChange(
  table: string,
  read: BlobFacts | null,
  next: BlobFacts,
  extra: {
    readonly scan?: ScanReport;
    readonly at?: string;
    /** Counters to add to (attribute name → amount), e.g. a namespace's reference count. */
    readonly add?: Readonly<Record<string, number>>;
  } = {},
): TransactWriteItem {
  const list = listing(next);
  const added = Object.entries(extra.add ?? {});
  const set = [
    '#kind = :blob',
    '#sha256 = :sha',
    '#size = if_not_exists(#size, :size)',
    '#state = :state',
    '#refcount = :refcount',
    '#createdAt = if_not_exists(#createdAt, :at)',
    ...(next.unreferencedSince === undefined ? [] : ['#unreferencedSince = :since']),
    ...(extra.scan === undefined ? [] : ['#scan = :scan']),
    ...(list ? ['#gsi2pk = :list', '#gsi2sk = :order'] : []),
  ];
  const remove = [
    ...(next.unreferencedSince === undefined ? ['#unreferencedSince'] : []),
    ...(list ? [] : ['#gsi2pk', '#gsi2sk']),
  ];
  const condition = read
    ? [
        '#state = :readState',
        '#refcount = :readRefcount',
        read.unreferencedSince === undefined
          ? 'attribute_not_exists(#unreferencedSince)'
          : '#unreferencedSince = :readSince',
      ].join(' AND ')
    : 'attribute_not_exists(#pk)';
  return {
    Update: {
      TableName: table,
      Key: toAttributes(keys.blob(next.sha256)),
      ...updateExpression({
        update:
          `SET ${set.join(', ')}` +
          (added.length > 0 ? ` ADD ${added.map(([name]) => `#${name} :${name}`).join(', ')}` : '') +
          (remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''),
        condition,
        values: {
          ':blob': 'blob',
          ':sha': next.sha256,
          ':size': next.size,
          ':state': next.state,
          ':refcount': next.refcount,
          ':at': extra.at ?? new Date().toISOString(),
          ':since': next.unreferencedSince,
          ':scan': extra.scan,
          ':list': list?.gsi2pk,
          ':order': list?.gsi2sk,
          ':readState': read?.state,
          ':readRefcount': read?.refcount,
          ':readSince': read?.unreferencedSince,
          ...Object.fromEntries(added.map(([name, amount]) => [`:${name}`, amount])),
        },
      }),
    },
  };
}

/**
 * A hold: unreferenced-since moves to at least `until`, so GC's grace runs from there. Null when the
 * blob is absent (nothing to hold) or already held that long.
 */
export function holdChange(table: string, read: BlobFacts | null, until: string): TransactWriteItem | null {
  if (!read || (read.unreferencedSince !== undefined && read.unreferencedSince >= until)) return null;
  return blobChange(table, read, { ...read, unreferencedSince: until });
}
