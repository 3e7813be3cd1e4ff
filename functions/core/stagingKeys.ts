import type { BlobStore } from '../ports.ts';
import type { UploadSession } from './model.ts';

/**
 * Where uploads land before their scan: `staging/<uploadId>/<n>` for a file sent on its own, and
 * `staging/<uploadId>/pack` for the small files a client sent in one pack. Storage events on these
 * keys start the scan, so the shapes are the contract between upload, scan and GC.
 */
export const stagingKeyOf = (uploadId: string, fileIndex: number): string =>
  `staging/${uploadId}/${fileIndex}`;

/** The session's pack: the bytes of its `packed` files, in file order. */
export const packKeyOf = (uploadId: string): string => `staging/${uploadId}/pack`;

/** Parses `staging/<uploadId>/pack`; undefined for any other key. */
export function parsePackKey(key: string): { uploadId: string } | undefined {
  const m = /^staging\/([0-9A-Z]{26})\/pack$/.exec(key);
  return m ? { uploadId: m[1]! } : undefined;
}

/**
 * Drops whatever an aborted or expired session staged: its unfinished multipart uploads, its files'
 * staged objects and, if it has one, its pack.
 */
export async function discardStaged(blobs: BlobStore, session: UploadSession): Promise<void> {
  const multipart = session.files.filter((f) => f.stagingKey !== undefined && f.multipartId);
  await Promise.all(multipart.map((f) => blobs.abortMultipart(f.stagingKey!, f.multipartId!)));
  const keys = session.files.flatMap((f) => (f.stagingKey === undefined ? [] : [f.stagingKey]));
  await blobs.deleteStaged(
    session.files.some((f) => f.packed) ? [...keys, packKeyOf(session.uploadId)] : keys,
  );
}

/** Parses `staging/<uploadId>/<n>`; undefined for any other key. */
export function parseStagingKey(key: string): { uploadId: string; fileIndex: number } | undefined {
  const m = /^staging\/([0-9A-Z]{26})\/(\d{1,3})$/.exec(key);
  return m ? { uploadId: m[1]!, fileIndex: Number(m[2]) } : undefined;
}
