import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { COMMON_HELP, type Command, describe, positiveInt, stringOption } from '../command.ts';
import { downloadVerified } from '../download.ts';
import { CliError, EXIT, IntegrityError } from '../errors.ts';
import { assertNotQuarantined } from '../format.ts';
import { runPool } from '../pool.ts';
import { formatRef, parseVersionRef } from '../refs.ts';
import { withRetry } from '../retry.ts';

export const fetch: Command = {
  help: `Usage: arca fetch <ns>/<pkg>@<version|stage> [files…] [-o dir]

Downloads a version's files (all of them, or the ones named) into a directory. Each file's sha256
is verified while it streams; a mismatch deletes the partial file and exits 4. Each file appears
in the directory only once verified (atomic rename). After @, a name that is not a version but a
valid stage name fetches the version that stage points at.

Options:
  -o, --output <dir>  where to write (default: the current directory)
  --concurrency <n>   parallel downloads (default 4)
${COMMON_HELP}

Examples:
  arca fetch payments/api-server@1.4.2 api.tar.gz -o /opt/api
  arca fetch payments/api-server@prod -o ./deploy --json`,
  options: {
    output: { type: 'string', short: 'o', default: '.' },
    concurrency: { type: 'string', default: '4' },
  },
  run: async (ctx) => {
    const [refText, ...names] = ctx.positionals;
    const ref = parseVersionRef(refText, '<version|stage>');
    const dir = resolve(stringOption(ctx.values, 'output') ?? '.');
    const client = ctx.client();
    const version = await client.resolveVersion(ref);
    const resolved = { ...ref, version: version.version };
    assertNotQuarantined(version);
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
    await mkdir(dir, { recursive: true });
    const progress = ctx.progress();
    const written: { name: string; path: string; sha256: string; size: number }[] = [];
    try {
      await runPool(
        files.map((file) => async () => {
          const bar = progress.file(file.name, file.size);
          const path = await withRetry(
            ctx.retry,
            async () => {
              const info = await client.downloadInfo(resolved, file.name);
              if (info.sha256 !== file.sha256) {
                throw new IntegrityError(`${file.name}: the server signed a URL for different content`);
              }
              return downloadVerified(info.url, dir, file, bar);
            },
            (error, attempt, delayMs) =>
              progress.note(
                `retrying ${file.name} (attempt ${attempt + 1}) in ${delayMs} ms: ${describe(error)}`,
              ),
          );
          bar.finish('verified');
          written.push({ name: file.name, path, sha256: file.sha256, size: file.size });
        }),
        positiveInt(ctx.values, 'concurrency', 4),
      );
    } finally {
      progress.close();
    }
    if (ctx.json) ctx.print(JSON.stringify({ ...resolved, files: written }, null, 2));
    else for (const f of written) ctx.print(`${f.path}  sha256:${f.sha256}`);
    return 0;
  },
};
