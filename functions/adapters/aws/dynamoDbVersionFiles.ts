import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { VersionRecord } from '../../ports.ts';
import { toAttributes } from './dynamoDbExpression.ts';
import { chunkOf, chunkSortKey, FILES_PER_ITEM, fileChunks } from './dynamoDbFileChunks.ts';
import { type Item, keys, packageKey, versionItem } from './dynamoDbItems.ts';
import type { DynamoTable } from './dynamoDbTable.ts';

/**
 * A version of more than 64 files keeps its file list in items of its own, 64 files to an item, as
 * a session does (dynamoDbSessions.ts): 1,000 files whose names are 512 characters are ~600 KB, more
 * than DynamoDB's 400 KB item, while 64 of them are ~40 KB. Versions of up to 64 files keep the list
 * inside the version item, as every version did before: their reads, writes and capacity are
 * unchanged, and a version written before this layout (no `fileItems`) is read the same way.
 *
 * The file items sit in the package partition under `VFILES#<version>#<uploadId>#nnnn`. No query of
 * the package partition matches that prefix (versions are `VERSION#`, stages `STAGE#`, promotions
 * `PROMOTION#` and `PROMOTED#`, attestations `ATTEST#`), so every existing reader of the partition
 * is blind to them. The upload id in the key ties the items to the commit that wrote them: the
 * header names its `uploadId`, and only that upload's items are ever read as its files.
 *
 * They are written in the commit's visibility transaction itself (at most 16 Puts), next to the
 * version item: a killed commit, or one that loses the version number to another session (its
 * version Put fails on `attribute_not_exists`, cancelling the whole transaction), writes none of
 * them, so there is nothing a reader could take for a version's files and nothing to clean up.
 * Deleting a version deletes its file items in the transaction that deletes (or purges) its item.
 */
const versionFilesKey = (
  ref: { readonly namespace: string; readonly package: string; readonly version: string },
  uploadId: string,
  chunk: number,
) => ({
  pk: packageKey(ref.namespace, ref.package),
  sk: chunkSortKey(`VFILES#${ref.version}#${uploadId}#`, chunk),
});

/** A version as items: its version item, and its file items when it has more than 64 files. */
export function versionItems(v: VersionRecord): Item[] {
  const inline = versionItem(v);
  if (v.files.length <= FILES_PER_ITEM) return [inline];
  const { files: _inItems, ...header } = inline;
  const chunks = fileChunks(v.files);
  return [
    { ...header, fileItems: chunks.length },
    ...chunks.map((files, i) => ({
      ...versionFilesKey(v, v.uploadId, i),
      kind: 'versionFiles',
      uploadId: v.uploadId,
      files,
    })),
  ];
}

/** The keys of a version item's file items; none when its files are inside it. */
export function versionFileKeys(header: Item): Item[] {
  if (header.fileItems === undefined) return [];
  const ref = header as { namespace: string; package: string; version: string; uploadId: string };
  return Array.from({ length: header.fileItems as number }, (_, i) => versionFilesKey(ref, ref.uploadId, i));
}

/** Where file `index` of a version is kept: the item and its position in that item's `files`. */
export function versionFileAt(header: Item, index: number): { key: Item; position: number } {
  if (header.fileItems === undefined)
    return { key: { pk: header.pk as string, sk: header.sk as string }, position: index };
  const ref = header as { namespace: string; package: string; version: string; uploadId: string };
  const { chunk, position } = chunkOf(index);
  return { key: versionFilesKey(ref, ref.uploadId, chunk), position };
}

/** Reads attempted when a version is replaced (deleted and published again) between two reads. */
const MAX_REREADS = 5;

/**
 * The version item with its whole `files` list, wherever it is kept, or null when it is gone (its
 * `fileItems` count stays, so a delete still knows which file items to delete with it).
 *
 * A version with file items is read as one snapshot (TransactGetItems of the version item and its
 * ≤ 16 file items), not by a GetItem and a Query: GC deletes a version's item and its file items in
 * one transaction, and a Query is not isolated from transactions, so it could see the items half
 * deleted and answer a version with files missing. Between the first GetItem (which says where the
 * files are) and the snapshot the version may have been replaced by another upload: the snapshot's
 * own version item then says where to read, and the read is repeated.
 */
export async function withVersionFiles(table: DynamoTable, item: Item | null): Promise<Item | null> {
  let header = item;
  for (let attempt = 0; attempt < MAX_REREADS; attempt++) {
    if (!header || header.fileItems === undefined) return header;
    const [again, ...fileItems] = await table.transactGet([
      { pk: header.pk, sk: header.sk },
      ...versionFileKeys(header),
    ]);
    if (again && again.uploadId === header.uploadId && again.fileItems === header.fileItems) {
      if (fileItems.some((f) => !f))
        throw new Error(`version ${header.pk}/${header.sk} is missing one of its file items`);
      return { ...again, files: fileItems.flatMap((f) => f!.files as VersionRecord['files']) };
    }
    header = again ?? null;
  }
  throw new Error(`version ${item?.pk}/${item?.sk} kept changing while it was read`);
}

/** Reads the file lists of version items (those keeping theirs inside are answered as they are). */
export async function withVersionFilesAll(table: DynamoTable, items: readonly Item[]): Promise<Item[]> {
  const read = await Promise.all(items.map((item) => withVersionFiles(table, item)));
  return read.filter((item): item is Item => item !== null);
}

/** One version's item read whole: its files included, from its file items when it has them. */
export async function readVersionItem(
  table: DynamoTable,
  ref: { readonly namespace: string; readonly package: string; readonly version: string },
): Promise<Item | null> {
  return withVersionFiles(table, await table.get(keys.version(ref.namespace, ref.package, ref.version)));
}

/**
 * Deletes of a version item's file items, for the transaction that deletes or purges the version
 * item: no file item outlives its version (a version number published again after a delete writes
 * items under its own upload id anyway).
 */
export function versionFileDeletes(tableName: string, header: Item): TransactWriteItem[] {
  return versionFileKeys(header).map((key) => ({ Delete: { TableName: tableName, Key: toAttributes(key) } }));
}
