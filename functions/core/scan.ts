import type { BlobStore, Clock, EventPort, Index, MetricsPort, ScanOutcome, StoreKeys } from '../ports.ts';
import { runPool } from './pool.ts';
import { ensureProvenance } from './provenance.ts';
import { type FileScan, scanFile } from './scanFile.ts';
import type { Scanner } from './scanners.ts';
import { packKeyOf, parsePackKey, parseStagingKey } from './stagingKeys.ts';
import type { AdvisorySource } from './vulns/osv.ts';

export interface ScanDeps {
  readonly index: Index;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly scanners: readonly Scanner[];
  readonly advisories?: AdvisorySource;
  /** The store's signing keys: the scan worker signs each version's provenance. */
  readonly keys: StoreKeys;
  readonly metrics?: MetricsPort;
  readonly events?: EventPort;
  /**
   * Files of one pack scanned at once (default 1), so at most this many slices, each at most the
   * pack's per-file limit, in memory. More helps where verdicts of one session are recorded without
   * conflict (SQLite, one writer); on DynamoDB every verdict is conditioned on the session's revision
   * and moves it, so concurrent verdicts of one session retry on each other and one at a time is
   * faster.
   */
  readonly packScanConcurrency?: number;
}

export type ScanResult = ScanOutcome['verdict'] | 'skipped';

/**
 * The scan step, run once per staged object (S3 event or in-process queue) and safe to run again: a
 * file's own staged object, or a session's pack, whose files are each scanned as if staged alone.
 * Streams the bytes once: recomputes sha256 and size (the only check that holds for multipart, packs
 * and storage that does not verify checksums) and feeds every scanner. Verified bytes move into
 * content-addressed storage BEFORE the index says `available`, so a crash in between leaves bytes
 * the next delivery finds, never an index entry without bytes; the blob is pinned BEFORE the copy,
 * so GC can never delete bytes that are landing; and the staged object is deleted only AFTER every
 * verdict in it is recorded, so a commit that finds neither staged bytes nor a verdict knows nothing
 * was uploaded (it never takes content stored by someone else for this upload's bytes).
 */
export async function scanStagedObject(deps: ScanDeps, stagingKey: string): Promise<ScanResult> {
  const pack = parsePackKey(stagingKey);
  if (pack) return scanPack(deps, pack.uploadId);
  const ref = parseStagingKey(stagingKey);
  if (!ref) return 'skipped';
  // The session's header and this one file: reading the whole list for every file made a
  // 1,000-file directory a million file reads.
  const view = await deps.index.getSessionFile(ref.uploadId, ref.fileIndex);
  const file = view?.file;
  if (!view || view.session.state === 'aborted' || !file || file.stagingKey !== stagingKey) {
    await deps.blobs.deleteStaged([stagingKey]);
    return 'skipped';
  }
  const scanned = await scanFile(deps, {
    session: view.session,
    fileIndex: ref.fileIndex,
    file,
    read: () => deps.blobs.readStaged(stagingKey),
    store: (sha256) => deps.blobs.copyToBlob(stagingKey, sha256),
  });
  if (scanned.result === 'gone') return 'skipped';
  await deps.blobs.deleteStaged([stagingKey]);
  if (scanned.sign) await ensureProvenance(deps, view.session);
  return scanned.result;
}

/**
 * A session's pack: split by the declared sizes, in file order, with `packScanConcurrency` files in
 * memory at most (each at most the pack's per-file limit), and each file scanned exactly as if it had
 * been staged alone. Files with a verdict already (a redelivery, or a scan killed half-way) are
 * skipped, the rest scanned; the pack is deleted once every file in it has its verdict.
 */
async function scanPack(deps: ScanDeps, uploadId: string): Promise<ScanResult> {
  const packKey = packKeyOf(uploadId);
  const session = await deps.index.getSession(uploadId);
  const packed = (session?.files ?? []).flatMap((file, fileIndex) =>
    file.packed ? [{ file, fileIndex }] : [],
  );
  if (!session || session.state === 'aborted' || packed.length === 0) {
    await deps.blobs.deleteStaged([packKey]);
    return 'skipped';
  }
  const stream = await deps.blobs.readStaged(packKey);
  if (!stream) return 'skipped';
  const pack = new PackReader(stream);
  // Slices are taken in file order, each task asking for its own before its first await; the
  // files are then scanned a few at a time (each scan waits mostly on storage and the index).
  let reading: Promise<unknown> = Promise.resolve();
  const slice = (size: number): Promise<Buffer> => {
    const taken = reading.then(() => pack.take(size));
    reading = taken.catch(() => undefined);
    return taken;
  };
  const scans: FileScan[] = [];
  let gone = false;
  const tasks = packed.map(({ file, fileIndex }) => async () => {
    const bytes = await slice(file.size);
    if (gone) return;
    const scanned = await scanFile(deps, {
      session,
      fileIndex,
      file,
      read: async () => [bytes],
      // Like copyToBlob, nothing is stored for a session whose staged bytes were dropped meanwhile.
      store: async (sha256) => {
        if (!(await deps.blobs.statStaged(packKey))) return false;
        await deps.blobs.putBlob(sha256, bytes);
        return true;
      },
    });
    if (scanned.result === 'gone') gone = true;
    else scans.push(scanned);
  });
  try {
    await runPool(tasks, deps.packScanConcurrency ?? 1);
  } finally {
    await pack.close();
  }
  if (gone) return 'skipped';
  await deps.blobs.deleteStaged([packKey]);
  if (scans.some((scanned) => scanned.sign)) await ensureProvenance(deps, session);
  const results = scans.map((scanned) => scanned.result);
  return (['rejected', 'infected', 'verified'] as const).find((r) => results.includes(r)) ?? 'skipped';
}

/** Reads a stream in slices of given lengths; a slice is shorter only where the stream ended. */
class PackReader {
  private readonly chunks: AsyncIterator<Uint8Array>;
  private rest: Buffer = Buffer.alloc(0);

  constructor(stream: AsyncIterable<Uint8Array>) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  async take(length: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < length) {
      if (this.rest.length === 0) {
        const next = await this.chunks.next();
        if (next.done) break;
        this.rest = Buffer.from(next.value);
      }
      const part = this.rest.subarray(0, length - have);
      this.rest = this.rest.subarray(part.length);
      parts.push(part);
      have += part.length;
    }
    return Buffer.concat(parts, have);
  }

  /** Releases the stream (and the file or connection behind it) when not read to its end. */
  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}
