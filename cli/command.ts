import { type ParseArgsConfig, parseArgs } from 'node:util';
import { resolveAuthorizer } from './auth.ts';
import { ArcaClient } from './client.ts';
import { UsageError } from './errors.ts';
import { createProgress, type Progress } from './progress.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** One `arca` command: its help text (with examples), its own options, and what it does. */
export interface Command {
  readonly help: string;
  readonly options?: Options;
  /** Split argv at `--` and hand the rest to the command untouched (`arca lease … -- cmd`). */
  readonly passthrough?: boolean;
  run(context: Context): Promise<number>;
}

/** Options every command takes; `--url`/`--token` default to ARCA_URL/ARCA_TOKEN. */
export const COMMON_OPTIONS: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  auth: { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  retries: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};

export const COMMON_HELP = `Common options:
  --url <url>       the Arca API (default: $ARCA_URL, else http://127.0.0.1:7070)
  --token <token>   bearer token (default: $ARCA_TOKEN)
  --auth <mode>     auto | bearer | sigv4 (default: $ARCA_AUTH, else auto: the token if given;
                    else SigV4 on an API Gateway URL when AWS credentials are in the environment;
                    else on GitHub Actions with id-token: write the job's OIDC token (audience
                    $ARCA_OIDC_AUDIENCE, else arca); else SigV4 on an API Gateway URL or with AWS
                    credentials; see docs/cli.md § Credentials)
  --json            machine-readable output on stdout
  -q, --quiet       no progress output
  --retries <n>     retries of a transient failure (default: $ARCA_RETRIES, else 5)
  -h, --help        this help`;

export interface Context {
  readonly values: Values;
  readonly positionals: readonly string[];
  /** Everything after `--`, for passthrough commands. */
  readonly rest: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly retry: RetryPolicy;
  client(): ArcaClient;
  progress(): Progress;
  /** A result line on stdout. */
  print(line: string): void;
  /** A diagnostic line on stderr (silenced by --quiet). */
  info(line: string): void;
}

const intOption = (name: string, raw: string | undefined, fallback: number): number => {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${name} must be a non-negative integer`);
  return n;
};

export function stringOption(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function positiveInt(values: Values, name: string, fallback: number): number {
  const n = intOption(`--${name}`, stringOption(values, name), fallback);
  if (n < 1) throw new UsageError(`--${name} must be at least 1`);
  return n;
}

/** Parses argv for `command` (strictly: an unknown option is a usage error) into a Context. */
export function createContext(command: Command, argv: readonly string[], env: NodeJS.ProcessEnv): Context {
  const split = command.passthrough ? argv.indexOf('--') : -1;
  const args = split >= 0 ? argv.slice(0, split) : [...argv];
  const rest = split >= 0 ? argv.slice(split + 1) : [];
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const json = values['json'] === true;
  const quiet = values['quiet'] === true;
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY,
    retries: intOption(
      '--retries',
      stringOption(values, 'retries') ?? env['ARCA_RETRIES'],
      DEFAULT_RETRY.retries,
    ),
    baseDelayMs: intOption('ARCA_RETRY_DELAY_MS', env['ARCA_RETRY_DELAY_MS'], DEFAULT_RETRY.baseDelayMs),
  };
  const info = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  let client: ArcaClient | undefined;
  return {
    values,
    positionals,
    rest,
    env,
    json,
    quiet,
    retry,
    client: () => {
      const url = stringOption(values, 'url') || env['ARCA_URL'] || 'http://127.0.0.1:7070';
      if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http(s) URL, got ${url}`);
      const token = stringOption(values, 'token') || env['ARCA_TOKEN'] || undefined;
      const mode = stringOption(values, 'auth') || env['ARCA_AUTH'] || 'auto';
      client ??= new ArcaClient({
        url,
        authorize: resolveAuthorizer(mode, new URL(url), token, env),
        retry,
        onRetry: (what, error, attempt, delayMs) =>
          info(`retrying ${what} (attempt ${attempt + 1}) in ${delayMs} ms: ${describe(error)}`),
      });
      return client;
    },
    progress: () => createProgress(quiet),
    print: (line) => process.stdout.write(`${line}\n`),
    info,
  };
}

export const describe = (error: unknown): string =>
  error instanceof Error
    ? ('code' in error && error.code ? `${error.code}: ` : '') + error.message
    : String(error);
