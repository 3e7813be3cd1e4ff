import { resolve } from 'node:path';
import type { Version } from '../client.ts';
import { COMMON_HELP, type Command, type Context, describe, positiveInt, stringOption } from '../command.ts';
import { downloadPartial, type PartialDownload } from '../download.ts';
import { CliError, EXIT, IntegrityError, UsageError } from '../errors.ts';
import { assertNotQuarantined } from '../format.ts';
import { runPool } from '../pool.ts';
import { checkLocalFiles, type Statement } from '../provenance.ts';
import { formatRef, parseVersionRef, type VersionRef } from '../refs.ts';
import { withRetry } from '../retry.ts';
import { prepareTree } from '../tree.ts';
import { VERIFY_HELP, VERIFY_OPTIONS, verifyRequestOf, verifyVersion } from '../verification.ts';

export const fetch: Command = {
  help: `Usage: arca fetch <ns>/<pkg>@<version|stage> [files…] [-o dir] [--verify [--key pub.pem] …]

Downloads a version's files (all of them, or the ones named) into a directory; path names
(dist/js/app.js) recreate their tree under it, and a name that would land outside it is refused
before any byte is written. Each file's sha256
is verified while it streams; a mismatch deletes the partial file and exits 4. Each file appears
in the directory only once verified (atomic rename). After @, a name that is not a version but a
valid stage name fetches the version that stage points at.

With --verify, the version's signed provenance is checked first, as \`arca verify\` does (trusted
key, subjects, --repository/--ref), and every downloaded file's sha256 against its signed subject
before any is renamed into place: on any failure arca exits 4 and leaves no file and no partial.

Options:
  -o, --output <dir>     where to write (default: the current directory)
  --concurrency <n>      parallel downloads (default 4)
  --verify               verify the signed provenance before the files appear
${VERIFY_HELP}
${COMMON_HELP}

Examples:
  arca fetch payments/api-server@1.4.2 api.tar.gz -o /opt/api
  arca fetch payments/api-server@prod -o ./deploy --json
  arca fetch payments/api-server@prod -o ./deploy --verify --key arca-store.pem \\
    --repository org/payments --ref refs/heads/main`,
  options: {
    output: { type: 'string', short: 'o', default: '.' },
    concurrency: { type: 'string', default: '4' },
    verify: { type: 'boolean', default: false },
    ...VERIFY_OPTIONS,
  },
  run: async (ctx) => {
    const [refText, ...names] = ctx.positionals;
    const ref = parseVersionRef(refText, '<version|stage>');
    const verifying = ctx.values['verify'] === true;
    const stray = Object.keys(VERIFY_OPTIONS).find((name) => ctx.values[name] !== undefined);
    if (!verifying && stray) throw new UsageError(`--${stray} applies to --verify; add --verify`);
    const dir = resolve(stringOption(ctx.values, 'output') ?? '.');
    const client = ctx.client();
    const version = await client.resolveVersion(ref);
    const resolved = { ...ref, version: version.version };
    assertNotQuarantined(version);
    if (version.state === 'deleted') {
      // Gone for good: waiting or retrying cannot bring its files back.
      throw new CliError(
        EXIT.notFound,
        `${formatRef(resolved)} was deleted (${version.reason ?? 'no reason given'}): its files are no longer served`,
        'VersionDeleted',
      );
    }
    if (version.state !== 'available') {
      throw new CliError(
        EXIT.transient,
        `${formatRef(resolved)} is ${version.state}, not yet available`,
        'NotAvailable',
      );
    }
    const wanted = names.length > 0 ? names : version.files.map((f) => f.name);
    const files = wanted.map((name) => {
      const file = version.files.find((f) => f.name === name);
      if (!file) throw new CliError(EXIT.notFound, `${formatRef(resolved)} has no file ${name}`, 'NotFound');
      return file;
    });
    // Checked before anything is written: a version that fails verification leaves no trace, and a
    // name that would land outside `dir` (or on a symlink planted in it) is refused outright.
    const statement = verifying ? await verifyFirst(ctx, version) : undefined;
    await prepareTree(
      dir,
      files.map((f) => f.name),
    );
    const written = await download(ctx, resolved, files, dir, statement);
    if (ctx.json) ctx.print(JSON.stringify({ ...resolved, files: written }, null, 2));
    else for (const f of written) ctx.print(`${f.path}  sha256:${f.sha256}`);
    return 0;
  },
};

async function verifyFirst(ctx: Context, version: Version): Promise<Statement> {
  const warn = (line: string) => process.stderr.write(`arca fetch: ${line}\n`);
  const proof = await verifyVersion(ctx.client(), version, verifyRequestOf(ctx.values, ctx.env), [], warn);
  ctx.info(`provenance verified: signed by ${proof.keyId}${proof.pinned ? '' : ' (store key, not pinned)'}`);
  return proof.statement;
}

type VersionFile = Version['files'][number];

/**
 * Downloads `files` into `dir`. Without a statement each file is renamed into place once its own
 * sha256 verified; with one, all stay partial until every one matches its signed subject, then all
 * are renamed (on failure all partials are deleted).
 */
async function download(
  ctx: Context,
  ref: VersionRef,
  files: readonly VersionFile[],
  dir: string,
  statement: Statement | undefined,
): Promise<{ name: string; path: string; sha256: string; size: number }[]> {
  const client = ctx.client();
  const progress = ctx.progress();
  const partials = new Map<string, PartialDownload>();
  const written: { name: string; path: string; sha256: string; size: number }[] = [];
  try {
    await runPool(
      files.map((file) => async () => {
        const bar = progress.file(file.name, file.size);
        const partial = await withRetry(
          ctx.retry,
          async () => {
            const info = await client.downloadInfo(ref, file.name);
            if (info.sha256 !== file.sha256) {
              throw new IntegrityError(`${file.name}: the server signed a URL for different content`);
            }
            return downloadPartial(info.url, dir, file, bar);
          },
          (error, attempt, delayMs) =>
            progress.note(
              `retrying ${file.name} (attempt ${attempt + 1}) in ${delayMs} ms: ${describe(error)}`,
            ),
        );
        partials.set(file.name, partial);
        if (!statement) {
          written.push({
            name: file.name,
            path: await partial.commit(),
            sha256: file.sha256,
            size: file.size,
          });
        }
        bar.finish('verified');
      }),
      positiveInt(ctx.values, 'concurrency', 4),
    );
    if (!statement) return written;
    checkLocalFiles(
      statement,
      [...partials].map(([name, partial]) => ({ name, sha256: partial.sha256 })),
    );
  } catch (error) {
    if (statement) await Promise.all([...partials.values()].map((partial) => partial.discard()));
    throw error;
  } finally {
    progress.close();
  }
  for (const file of files) {
    const partial = partials.get(file.name)!;
    written.push({ name: file.name, path: await partial.commit(), sha256: partial.sha256, size: file.size });
  }
  return written;
}
