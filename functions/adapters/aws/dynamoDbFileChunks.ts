/**
 * A file list kept in items of its own, `FILES_PER_ITEM` files to an item: a session's
 * (dynamoDbSessions.ts) and a version's of more than that many files (dynamoDbVersionFiles.ts).
 * 64 files of the longest names (512 characters) stay far below DynamoDB's 400 KB item.
 */
export const FILES_PER_ITEM = 64;

/** The list cut into the lists of its items, in order. */
export function fileChunks<T>(files: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let at = 0; at < files.length; at += FILES_PER_ITEM) chunks.push(files.slice(at, at + FILES_PER_ITEM));
  return chunks;
}

/** Which item holds file `index`, and where in that item's list. */
export const chunkOf = (index: number): { chunk: number; position: number } => ({
  chunk: Math.floor(index / FILES_PER_ITEM),
  position: index % FILES_PER_ITEM,
});

/** A file item's sort key: `prefix` and the item's number, zero-padded so items sort in order. */
export const chunkSortKey = (prefix: string, chunk: number): string =>
  `${prefix}${String(chunk).padStart(4, '0')}`;
