import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { readZipDirectory } from '../core/archive/zipDirectory.ts';
import { type AdvisorySource, OsvIndex, type OsvRecord } from '../core/vulns/osv.ts';

export interface ReloadOptions {
  /** How often the source is asked whether it changed. @default 60_000 */
  readonly checkEveryMs?: number;
  readonly now?: () => number;
}

/**
 * An advisory database re-read when it changes: at most every `checkEveryMs` its stamp (what tells
 * its content apart without reading it: a listing, an ETag) is compared with the loaded one's, and
 * only a new stamp loads it again. Concurrent callers share one check.
 */
export abstract class ReloadingAdvisorySource implements AdvisorySource {
  private loaded: { stamp: string; index: OsvIndex } | undefined;
  private checkedAt = 0;
  private loading: Promise<OsvIndex> | undefined;

  constructor(private readonly reload: ReloadOptions = {}) {}

  protected abstract stamp(): Promise<string>;
  /** Reads the database whose stamp was just taken. */
  protected abstract load(stamp: string): Promise<OsvIndex>;

  current(): Promise<OsvIndex> {
    this.loading ??= this.refresh().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async refresh(): Promise<OsvIndex> {
    const now = (this.reload.now ?? Date.now)();
    if (this.loaded && now - this.checkedAt < (this.reload.checkEveryMs ?? 60_000)) return this.loaded.index;
    const stamp = await this.stamp();
    this.checkedAt = now;
    if (this.loaded?.stamp === stamp) return this.loaded.index;
    const index = await this.load(stamp);
    this.loaded = { stamp, index };
    return index;
  }
}

/**
 * The operator's OSV advisory database on disk (`ARCA_OSV_DB`): a directory of OSV JSON files
 * (searched recursively, as the per-ecosystem exports unpack) or a zip of them (as they download).
 * Reloaded when it changes: at most every `checkEveryMs`, the path's listing (names, sizes, mtimes)
 * is compared with the one loaded, so replacing the files is all an update takes. Its version in
 * reports is the sha256 of the records' bytes, so the same content is the same version anywhere.
 */
export class OsvDatabaseFiles extends ReloadingAdvisorySource {
  constructor(
    readonly path: string,
    options: ReloadOptions = {},
  ) {
    super(options);
  }

  protected stamp(): Promise<string> {
    return stampOf(this.path);
  }

  protected async load(): Promise<OsvIndex> {
    return indexOf(await readRecords(this.path));
  }
}

/** The database of these files; its version is a digest of their names and bytes. */
export function indexOf(files: { name: string; bytes: Buffer }[]): OsvIndex {
  const hash = createHash('sha256');
  const records: OsvRecord[] = [];
  for (const { name, bytes } of files.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    hash.update(`${name}\0${bytes.length}\0`).update(bytes);
    records.push(parseRecord(name, bytes));
  }
  return new OsvIndex(records, `sha256:${hash.digest('hex').slice(0, 16)}`);
}

function parseRecord(name: string, bytes: Buffer): OsvRecord {
  try {
    const record = JSON.parse(bytes.toString('utf8')) as OsvRecord;
    if (typeof record?.id !== 'string') throw new Error('no "id"');
    return record;
  } catch (error) {
    // A database that cannot be read whole is not vouched for: the scan fails and is retried.
    throw new Error(`the OSV database's ${name} is not an OSV record: ${(error as Error).message}`);
  }
}

/** What changes when the database does: every file's name, size and modification time. */
async function stampOf(path: string): Promise<string> {
  const info = await stat(path);
  if (!info.isDirectory()) return `${info.size}:${info.mtimeMs}`;
  const parts: string[] = [];
  for (const file of await jsonFiles(path)) {
    const s = await stat(file);
    parts.push(`${file}:${s.size}:${s.mtimeMs}`);
  }
  return parts.join('\n');
}

async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.json')) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

async function readRecords(path: string): Promise<{ name: string; bytes: Buffer }[]> {
  if ((await stat(path)).isDirectory()) {
    return Promise.all(
      (await jsonFiles(path)).map(async (file) => ({
        name: file.slice(path.length + 1),
        bytes: await readFile(file),
      })),
    );
  }
  return zipRecords(await readFile(path));
}

/** The `.json` entries of a zip (stored or deflated), read through its central directory. */
export function zipRecords(zip: Buffer): { name: string; bytes: Buffer }[] {
  const entries: { path: string; offset: number; compressedSize: number }[] = [];
  const listing = readZipDirectory(zip, zip.length, (entry) => entries.push(entry));
  if (listing.error) throw new Error(`the OSV database zip cannot be read: ${listing.error}`);
  return entries
    .filter((e) => e.path.endsWith('.json'))
    .map((e) => {
      if (zip.readUInt32LE(e.offset) !== 0x04034b50)
        throw new Error(`the OSV database zip's ${e.path} has no local header`);
      const method = zip.readUInt16LE(e.offset + 8);
      const start = e.offset + 30 + zip.readUInt16LE(e.offset + 26) + zip.readUInt16LE(e.offset + 28);
      const data = zip.subarray(start, start + e.compressedSize);
      if (method !== 0 && method !== 8)
        throw new Error(`the OSV database zip's ${e.path} uses method ${method}`);
      return { name: e.path, bytes: method === 8 ? inflateRawSync(data) : Buffer.from(data) };
    });
}
