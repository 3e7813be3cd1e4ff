import { stat } from 'node:fs/promises';
import type { CommittedParts, CreatedUpload } from '../client.ts';
import { COMMON_HELP, type Command, type Context, describe, positiveInt, stringOption } from '../command.ts';
import { HttpError, UsageError } from '../errors.ts';
import { hashFile, type LocalFile } from '../files.ts';
import { assertNotQuarantined, describeVersion, waitUntilScanned } from '../format.ts';
import { runPool } from '../pool.ts';
import { formatBytes } from '../progress.ts';
import { formatRef, parseDuration, parseMetadata, parseVersionRef } from '../refs.ts';
import { expandPaths } from '../tree.ts';
import { planPackUpload, planUpload } from '../upload.ts';

export const publish: Command = {
  help: `Usage: arca publish <ns>/<pkg>@<version> <files or directories…> [--meta k=v …] [--wait] [--json]

Publishes files as a new version. A directory publishes every file under it, named by the
directory's name and the path below it (dist/ → dist/index.html, dist/js/app.js; up to 1,000
files; symlinks are refused, not followed). Each file is read once for its sha256 and size; files the store
already has are not sent again; the rest go straight to storage over signed URLs, in parallel parts
for large files, each part retried on its own, and small files (64 KiB or less by default) together
in one PUT. Then the version is committed.

Options:
  --meta k=v          metadata (repeatable): commit, build id, pipeline…
  --wait              wait until the scan has finished and the store signed its provenance:
                      exit 0 when available, 4 when quarantined
  --timeout <dur>     how long --wait waits (default 10m)
  --concurrency <n>   parallel PUTs (default 4)
${COMMON_HELP}

Examples:
  arca publish payments/api-server@1.4.2 dist/api.tar.gz sbom.cdx.json --meta commit=$GIT_SHA --wait
  arca publish payments/api-server@$(git describe) build/*.zip --json > version.json
  arca publish web/site@1.2.0 dist/ --meta commit=$GIT_SHA`,
  options: {
    meta: { type: 'string', multiple: true, default: [] },
    wait: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '10m' },
    concurrency: { type: 'string', default: '4' },
  },
  run: async (ctx) => {
    const [refText, ...paths] = ctx.positionals;
    const ref = parseVersionRef(refText);
    if (paths.length === 0) throw new UsageError('publish needs at least one file');
    const metadata = parseMetadata((ctx.values['meta'] as string[] | undefined) ?? []);
    const concurrency = positiveInt(ctx.values, 'concurrency', 4);
    const timeoutMs = parseDuration(stringOption(ctx.values, 'timeout') ?? '10m') * 1000;
    const client = ctx.client();

    const files = await hashAll(ctx, paths);
    const declared = {
      ...ref,
      files: files.map(({ name, size, sha256, mediaType }) => ({ name, size, sha256, mediaType })),
      metadata,
    };
    // Small files go in one PUT: per-file requests, not bytes, bound a tree of small files. A store
    // from before packs refuses the field: it gets the request it knows.
    const upload = await client.createUpload({ ...declared, pack: true }).catch((error: unknown) => {
      if (!refusesPacks(error)) throw error;
      return client.createUpload(declared);
    });
    if (upload.existing) {
      // A re-run: the version is committed already with exactly these files and metadata.
      ctx.info(`${formatRef(ref)} is already published, identical: nothing to upload`);
      let existing = await client.getVersion(ref);
      if (ctx.values['wait'] === true) {
        existing = await waitUntilScanned(client, ref, timeoutMs);
        assertNotQuarantined(existing);
      }
      if (ctx.json) ctx.print(JSON.stringify(existing, null, 2));
      else for (const line of describeVersion(existing)) ctx.print(line);
      return 0;
    }
    let committedParts: CommittedParts[];
    try {
      committedParts = await uploadAll(ctx, files, upload, concurrency);
    } catch (error) {
      await client.abortUpload(upload.uploadId).catch(() => {});
      throw error;
    }
    let version = await client.commitUpload(upload.uploadId, committedParts);
    if (ctx.values['wait'] === true) {
      ctx.info(`waiting for the scan of ${formatRef(ref)}…`);
      version = await waitUntilScanned(client, ref, timeoutMs);
      assertNotQuarantined(version);
    }
    if (ctx.json) ctx.print(JSON.stringify(version, null, 2));
    else for (const line of describeVersion(version)) ctx.print(line);
    return 0;
  },
};

/** The 400 a store from before packs answers `pack: true` with: the field is unknown to it. */
export function refusesPacks(error: unknown): boolean {
  if (!(error instanceof HttpError) || error.status !== 400 || error.code !== 'InvalidRequest') return false;
  const issues = (error.details as { issues?: { path?: string; message?: string }[] } | undefined)?.issues;
  return (issues ?? []).some((i) => i.path === '' && /Unrecognized key.*'pack'/.test(i.message ?? ''));
}

/** Files this large show their hashing as progress: reading a few GiB takes seconds to minutes. */
const HASH_PROGRESS_FROM = 16 * 1024 * 1024;

/** Hashes every file (a directory argument brings its whole tree), a few at a time. */
async function hashAll(ctx: Context, paths: readonly string[]): Promise<LocalFile[]> {
  const entries = await expandPaths(paths);
  const files: LocalFile[] = new Array(entries.length);
  const progress = ctx.progress();
  await runPool(
    entries.map(({ path, name }, i) => async () => {
      const size = (await stat(path).catch(() => null))?.size ?? 0;
      const bar = size >= HASH_PROGRESS_FROM ? progress.file(`hashing ${name}`, size) : undefined;
      const file = await hashFile(path, (n) => bar?.add(n), name);
      bar?.finish();
      if (entries.length <= QUIET_ABOVE)
        ctx.info(`${file.name}: sha256:${file.sha256} ${formatBytes(file.size)}`);
      files[i] = file;
    }),
    HASH_CONCURRENCY,
  );
  progress.close();
  if (entries.length > QUIET_ABOVE) ctx.info(`${entries.length} files hashed`);
  return files;
}

/** Files hashed at once: a tree of small files is bound by opens and reads, not by the CPU. */
const HASH_CONCURRENCY = 8;
/** Above this many files, one summary line replaces a line per file. */
const QUIET_ABOVE = 50;

/**
 * Uploads every `upload` file and the pack of `packed` ones, with bounded concurrency across all
 * their PUTs; returns the parts to commit.
 */
async function uploadAll(
  ctx: Context,
  files: readonly LocalFile[],
  upload: CreatedUpload,
  concurrency: number,
): Promise<CommittedParts[]> {
  const progress = ctx.progress();
  const tasks: (() => Promise<void>)[] = [];
  const plans = [];
  const context = {
    retry: ctx.retry,
    onRetry: (what: string, error: unknown, attempt: number, delayMs: number) =>
      progress.note(`retrying ${what} (attempt ${attempt + 1}) in ${delayMs} ms: ${describe(error)}`),
  };
  try {
    // The answer lists the files in the order they were declared: the pack names them by position.
    if (upload.files.length !== files.length || upload.files.some((f, i) => f.name !== files[i]!.name))
      throw new Error('the server answered for other files than we declared');
    if (upload.pack) {
      const packed = upload.pack.files.map((i) => {
        if (upload.files[i]?.action !== 'packed')
          throw new Error(`the server packed file ${i}, not answered packed`);
        return files[i]!;
      });
      const bar = progress.file(`${packed.length} small files, packed`, upload.pack.size);
      const put = planPackUpload(packed, upload.pack, bar, context);
      tasks.push(async () => {
        await put();
        bar.finish('uploaded');
      });
    }
    for (const [i, instruction] of upload.files.entries()) {
      const file = files[i]!;
      if (instruction.action === 'packed') continue;
      if (instruction.action === 'exists') {
        progress.note(
          `${file.name}: the store already has it (sha256:${file.sha256.slice(0, 12)}…), not sent`,
        );
        continue;
      }
      const bar = progress.file(file.name, file.size);
      const plan = planUpload(file, instruction, bar, context);
      let left = plan.tasks.length;
      for (const task of plan.tasks) {
        tasks.push(async () => {
          await task();
          if (--left === 0) bar.finish('uploaded');
        });
      }
      plans.push(plan);
    }
    await runPool(tasks, concurrency);
  } finally {
    progress.close();
  }
  return plans.map((p) => p.committed()).filter((c): c is CommittedParts => c !== undefined);
}
