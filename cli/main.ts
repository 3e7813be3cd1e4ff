import type { Command } from './command.ts';
import { createContext } from './command.ts';
import { CliError, EXIT, HttpError } from './errors.ts';
import { VERSION } from './version.ts';

/** Commands load lazily, so `arca fetch` never pays for what `arca serve` imports. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  publish: {
    summary: 'upload files as a new version (dedupe, parallel parts, retries)',
    load: async () => (await import('./commands/publish.ts')).publish,
  },
  fetch: {
    summary: 'download a version’s files by version or stage, verifying sha256',
    load: async () => (await import('./commands/fetch.ts')).fetch,
  },
  verify: {
    summary: 'verify a version’s signed provenance, local files and CI identity (exit 4 if not)',
    load: async () => (await import('./commands/verify.ts')).verify,
  },
  attest: {
    summary: 'upload a publisher attestation (DSSE envelope) for a version',
    load: async () => (await import('./commands/attest.ts')).attest,
  },
  promote: {
    summary: 'point a stage at a version',
    load: async () => (await import('./commands/promote.ts')).promote,
  },
  versions: {
    summary: 'list a package’s versions, newest first',
    load: async () => (await import('./commands/versions.ts')).versions,
  },
  delete: {
    summary: 'delete a version for good, with a reason (namespace admin)',
    load: async () => (await import('./commands/delete.ts')).deleteCommand,
  },
  namespaces: {
    summary: 'list the namespaces you can read',
    load: async () => (await import('./commands/namespaces.ts')).namespaces,
  },
  packages: {
    summary: 'list a namespace’s packages: latest version and stages',
    load: async () => (await import('./commands/packages.ts')).packages,
  },
  search: {
    summary: 'find versions by a file’s sha256 or by an exact metadata value',
    load: async () => (await import('./commands/search.ts')).search,
  },
  show: {
    summary: 'show one version (by version or stage)',
    load: async () => (await import('./commands/show.ts')).show,
  },
  lease: {
    summary: 'hold a lease on a version while a command runs',
    load: async () => (await import('./commands/lease.ts')).lease,
  },
  gc: {
    summary: 'plan or run garbage collection (admin)',
    load: async () => (await import('./commands/gc.ts')).gc,
  },
  audit: {
    summary: 'list audit events (admin)',
    load: async () => (await import('./commands/audit.ts')).audit,
  },
  token: {
    summary: 'create, list or revoke Arca tokens (admin of the store or a namespace)',
    load: async () => (await import('./commands/token.ts')).token,
  },
  whoami: {
    summary: 'show who the store takes you for: kind, roles, promote limits, claims',
    load: async () => (await import('./commands/whoami.ts')).whoami,
  },
  serve: {
    summary: 'run a local Arca (embedded backend), like npm start',
    load: async () => (await import('./commands/serve.ts')).serve,
  },
  completion: {
    summary: 'print a bash or zsh completion script',
    load: async () => (await import('./commands/completion.ts')).completion,
  },
};

/** Every command's name, for shell completion. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

export const EXIT_CODES_HELP = `Exit codes:
  0   ok
  1   usage (bad arguments or a request the server refused as invalid)
  2   not found (package, version, stage, file, lease; the files of a deleted version)
  3   conflict (the version exists, the stage is immutable, the version is not promotable…)
  4   integrity or scan failure (sha256 mismatch, quarantined by the scan, provenance not verified)
  5   authentication or authorisation (missing/invalid token, forbidden)
  10  transient, worth retrying (network, 5xx, 429, expired session, --wait timeout)`;

const OVERVIEW = `Usage: arca <command> [options]

The Arca artifact store from CI/CD. Configure with --url/--token or ARCA_URL/ARCA_TOKEN; on GitHub
Actions with \`id-token: write\` and no token, arca sends the job's OIDC token.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
  .join('\n')}

Run \`arca <command> --help\` for a command's options and examples.

${EXIT_CODES_HELP}

Examples:
  export ARCA_URL=https://arca.example.com ARCA_TOKEN=…
  arca publish payments/api-server@1.4.2 dist/api.tar.gz --meta commit=$GIT_SHA --wait
  arca promote payments/api-server@1.4.2 --to prod
  arca fetch payments/api-server@prod -o ./deploy`;

/** Runs `arca <argv…>` and resolves with the exit code; errors print the server's code and message. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  // `arca help publish` is `arca publish --help`.
  if (name === 'help' && rest[0] !== undefined && COMMANDS[rest[0]]) return main([rest[0], '--help'], env);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${OVERVIEW}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`arca ${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`arca: unknown command ${JSON.stringify(name)}; see arca --help\n`);
    return EXIT.usage;
  }
  const command = await entry.load();
  try {
    const context = createContext(command, rest, env);
    if (context.values['help'] === true) {
      process.stdout.write(`${command.help}\n\n${EXIT_CODES_HELP}\n`);
      return EXIT.ok;
    }
    return await command.run(context);
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : EXIT.usage;
    // Under --json a script reads errors as JSON too, on stderr, with the same exit code.
    process.stderr.write(
      `${rest.includes('--json') ? jsonError(error, exitCode) : formatError(name, error)}\n`,
    );
    return exitCode;
  }
}

function jsonError(error: unknown, exitCode: number): string {
  const code = error instanceof HttpError || error instanceof CliError ? (error.code ?? 'Error') : 'Internal';
  const message = error instanceof Error ? error.message : String(error);
  const requestId = error instanceof HttpError && error.requestId ? { requestId: error.requestId } : {};
  return JSON.stringify({ error: { code, message, exitCode, ...requestId } });
}

function formatError(command: string, error: unknown): string {
  if (error instanceof HttpError) {
    const request = error.requestId ? ` (request ${error.requestId})` : '';
    return `arca ${command}: ${error.code}: ${error.message}${request}`;
  }
  if (error instanceof CliError) {
    return `arca ${command}: ${error.code ? `${error.code}: ` : ''}${error.message}${error.exitCode === EXIT.usage ? `\nSee arca ${command} --help` : ''}`;
  }
  return `arca ${command}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}
