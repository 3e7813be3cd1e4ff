import { resolve } from 'node:path';
import { createAwsBackend } from '../adapters/aws/awsBackend.ts';
import { oidcIssuersFromEnv } from '../adapters/oidc/issuers.ts';
import { JoseOidcVerifier } from '../adapters/oidc/joseOidcVerifier.ts';
import { coreConfigFromEnv } from '../config/coreConfig.ts';
import { ENV, intEnv } from '../config/env.ts';
import { startAdvisorySchedule } from './advisorySchedule.ts';
import { ADMIN_PRINCIPAL, type BearerOidc, bearerAuthenticator, resolveAdminToken } from './auth.ts';
import { createEmbeddedBackend } from './embeddedBackend.ts';
import { startGcSchedule } from './gcSchedule.ts';
import { type HostedBackend, type LocalServer, startLocalServer } from './server.ts';

type Log = (line: Record<string, unknown>) => void;

const backendKind = (env: NodeJS.ProcessEnv) => (env[ENV.backend] === 'aws' ? 'aws' : 'embedded');

/** The embedded backend (recovering unfinished scans), or with `ARCA_BACKEND=aws` the AWS adapters. */
async function hostBackend(
  env: NodeJS.ProcessEnv,
  url: string,
  dataDir: string,
  log: Log,
): Promise<HostedBackend> {
  if (backendKind(env) === 'aws') return createAwsBackend(env);
  const backend = await createEmbeddedBackend({
    dataDir,
    publicUrl: env[ENV.publicUrl] || url,
    multipartThreshold: env[ENV.multipartThreshold] ? intEnv(ENV.multipartThreshold, 0, env) : undefined,
    config: coreConfigFromEnv(env),
    onScanError: (stagingKey, error) =>
      log({
        level: 'error',
        msg: 'scan failed',
        stagingKey,
        error: error instanceof Error ? error.stack : String(error),
      }),
  });
  const recovered = await backend.recover();
  if (recovered > 0) log({ level: 'info', msg: 'recovered pending scans', count: recovered });
  return backend;
}

/**
 * OIDC from `ARCA_OIDC_ISSUERS` (a bad issuer stops the start-up); none when it is unset. Trust rules
 * are read on every request on the embedded backend (a local SQLite read), at most once a minute
 * from DynamoDB.
 */
function oidcFromEnv(env: NodeJS.ProcessEnv, log: Log): BearerOidc | undefined {
  const issuers = oidcIssuersFromEnv(env);
  if (issuers.length === 0) return undefined;
  return {
    verifier: new JoseOidcVerifier({ issuers, log }),
    policyTtlMs: backendKind(env) === 'aws' ? 60_000 : 0,
  };
}

/** With an advisory database (`ARCA_OSV_DB`): SBOMs matched again when it changes, checked every minute. */
function withAdvisorySchedule(backend: HostedBackend, log: Log): HostedBackend {
  if (!backend.deps.advisories) return backend;
  const schedule = startAdvisorySchedule(backend.deps, 60_000, log);
  return {
    ...backend,
    close: async () => {
      await schedule.stop();
      await backend.close();
    },
  };
}

/** The in-process stand-in for the EventBridge GC schedule (`ARCA_GC_INTERVAL_SECONDS`, 0 = off). */
function withGcSchedule(backend: HostedBackend, env: NodeJS.ProcessEnv, log: Log): HostedBackend {
  const every = intEnv(ENV.gcIntervalSeconds, 3600, env);
  if (every === 0) return backend;
  const gc = startGcSchedule(backend.deps, every * 1000, log);
  return {
    ...backend,
    close: async () => {
      await gc.stop();
      await backend.close();
    },
  };
}

/**
 * What `serve` prints for a person at start: the URL, and the admin token only when it was generated
 * just now; otherwise where the token lives, never the secret (terminal scrollback and CI logs keep it).
 */
export function startBanner(
  url: string,
  dataDir: string,
  admin: ReturnType<typeof resolveAdminToken>,
): string {
  const token =
    admin.source === 'generated'
      ? [
          `Admin token (generated, kept in ${admin.path}):`,
          `  export ARCA_URL=${url} ARCA_TOKEN=${admin.token}`,
        ]
      : admin.source === 'file'
        ? [
            `Admin token: kept in ${admin.path}`,
            `  export ARCA_URL=${url} ARCA_TOKEN="$(cat '${admin.path}')"`,
          ]
        : [
            `Admin token: the ${ENV.adminToken} variable`,
            `  export ARCA_URL=${url} ARCA_TOKEN="$${ENV.adminToken}"`,
          ];
  return [
    '',
    `Arca is serving ${url} (data in ${dataDir}).`,
    ...token,
    'Try:',
    `  curl -s -H "Authorization: Bearer $ARCA_TOKEN" $ARCA_URL/v1/packages/demo/hello/versions`,
    '',
  ].join('\n');
}

/**
 * `npm start` / `arca serve`: the local Arca on 127.0.0.1, embedded backend by default. Prints how to
 * reach it (see `startBanner`), and on SIGTERM/SIGINT finishes in-flight requests before exiting.
 * `close()` stops it without exiting.
 */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<LocalServer> {
  const dataDir = resolve(env[ENV.dataDir] || '.arca');
  const admin = resolveAdminToken(dataDir, env[ENV.adminToken]);
  const log: Log = (line) =>
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
  const oidc = oidcFromEnv(env, log);

  const server = await startLocalServer({
    host: env[ENV.host] || '127.0.0.1',
    port: intEnv(ENV.port, 7070, env),
    authenticate: bearerAuthenticator(new Map([[admin.token, ADMIN_PRINCIPAL]]), oidc),
    log,
    ...(env[ENV.metricsToken] ? { metricsToken: env[ENV.metricsToken] } : {}),
    backend: async (url) =>
      withAdvisorySchedule(withGcSchedule(await hostBackend(env, url, dataDir, log), env, log), log),
  });

  log({ level: 'info', msg: 'arca listening', url: server.url, dataDir, backend: backendKind(env) });
  process.stderr.write(startBanner(server.url, dataDir, admin));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ level: 'info', msg: 'shutting down', signal });
    await server.close();
    log({ level: 'info', msg: 'stopped' });
    process.exit(0);
  };
  const onTerm = () => void stop('SIGTERM');
  const onInt = () => void stop('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return {
    ...server,
    close: async () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      await server.close();
    },
  };
}
