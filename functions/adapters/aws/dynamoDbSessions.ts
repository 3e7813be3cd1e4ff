import type { SessionFile } from '../../core/model.ts';
import type { StoredSession, UploadSession } from '../../ports.ts';
import { chunkOf, chunkSortKey, fileChunks } from './dynamoDbFileChunks.ts';
import { type Item, keys, sessionItem, sessionOf } from './dynamoDbItems.ts';
import type { DynamoTable } from './dynamoDbTable.ts';

/**
 * A session's files live in items of their own, 64 to an item (dynamoDbFileChunks.ts), next to the
 * session item in its partition: the scan of one file reads and rewrites its own item, not the whole
 * list. With the list inside the session item, each of a 1,000-file session's verdicts rewrote
 * ~220 KB (DynamoDB bills a write by the whole item: ~440 WCU in a transaction, ~440,000 WCU per
 * publish); now ~14 KB.
 */
export const sessionFilesKey = (uploadId: string, chunk: number) => ({
  pk: keys.session(uploadId).pk,
  sk: chunkSortKey('FILES#', chunk),
});

/** What a session's header says, and how many of its uploaded files still wait for a verdict. */
export interface SessionHeader {
  readonly session: Omit<StoredSession, 'files'>;
  readonly awaitingScan: number;
}

/** A session as items: its header (`fileItems`, `awaitingScan`) and its file items, in order. */
export function sessionItems(session: UploadSession): Item[] {
  const { files: _inItems, ...header } = sessionItem(session);
  const chunks = fileChunks(session.files as SessionFile[]);
  const awaiting = session.files.filter((f) => f.action === 'upload' && !f.verdict).length;
  return [
    { ...header, fileItems: chunks.length, awaitingScan: awaiting },
    ...chunks.map((files, i) => ({
      ...sessionFilesKey(session.uploadId, i),
      kind: 'sessionFiles',
      uploadId: session.uploadId,
      files,
      ttl: header.ttl,
    })),
  ];
}

/**
 * Where file `index` is kept: the item and its position in that item's `files` list. A session
 * written before files had items of their own (no `fileItems`) keeps them in the session item.
 */
export function sessionFileAt(header: Item, index: number): { key: Item; position: number } {
  const uploadId = header.uploadId as string;
  if (header.fileItems === undefined) return { key: keys.session(uploadId), position: index };
  const { chunk, position } = chunkOf(index);
  return { key: sessionFilesKey(uploadId, chunk), position };
}

function headerOf(item: Item): SessionHeader {
  const { files, ...session } = sessionOf(item);
  if (item.fileItems !== undefined) return { session, awaitingScan: item.awaitingScan as number };
  return { session, awaitingScan: files.filter((f) => f.action === 'upload' && !f.verdict).length };
}

/** A session item's header fields (its files, wherever they are kept, left out). */
export const sessionHeaderOf = (item: Item): Omit<StoredSession, 'files'> => headerOf(item).session;

/**
 * The whole session, header and files read as one snapshot (TransactGetItems): a Query of the
 * partition could see a verdict's transaction half applied (a new revision with an old file item).
 */
export async function readSession(table: DynamoTable, uploadId: string): Promise<StoredSession | null> {
  // Most sessions fit one file item: the header and that item are one read.
  const [header, first] = await table.transactGet([keys.session(uploadId), sessionFilesKey(uploadId, 0)]);
  if (!header) return null;
  if (header.fileItems === undefined) return sessionOf(header);
  const count = header.fileItems as number;
  if (count <= 1) return { ...headerOf(header).session, files: (first?.files ?? []) as SessionFile[] };
  const chunks = Array.from({ length: count }, (_, i) => sessionFilesKey(uploadId, i));
  const [again, ...items] = await table.transactGet([keys.session(uploadId), ...chunks]);
  if (!again) return null;
  const files = items.flatMap((item) => (item?.files ?? []) as SessionFile[]);
  return { ...headerOf(again).session, files };
}

/** The session's header with file `index` (undefined past the end), read as one snapshot. */
export async function readSessionFile(
  table: DynamoTable,
  uploadId: string,
  index: number,
): Promise<(SessionHeader & { readonly raw: Item; readonly file: SessionFile | undefined }) | null> {
  const chunk = sessionFilesKey(uploadId, chunkOf(index).chunk);
  const [header, item] = await table.transactGet([keys.session(uploadId), chunk]);
  if (!header) return null;
  const { position } = sessionFileAt(header, index);
  const list = (header.fileItems === undefined ? header.files : item?.files) as SessionFile[] | undefined;
  return { ...headerOf(header), raw: header, file: list?.[position] };
}
