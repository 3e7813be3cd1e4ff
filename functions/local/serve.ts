import { resolve } from 'node:path';
import { coreConfigFromEnv } from '../config/coreConfig.ts';
import { ENV, intEnv } from '../config/env.ts';
import { ADMIN_PRINCIPAL, bearerAuthenticator, resolveAdminToken } from './auth.ts';
import { createEmbeddedBackend } from './embeddedBackend.ts';
import { startGcSchedule } from './gcSchedule.ts';
import { type LocalServer, startLocalServer } from './server.ts';

/**
 * `npm start` / `arca serve`: the local Arca on 127.0.0.1 with the embedded backend. Prints the admin
 * token and a curl example, and on SIGTERM/SIGINT finishes in-flight requests before exiting.
 */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<LocalServer> {
  const dataDir = resolve(env[ENV.dataDir] || '.arca');
  const { token, generated } = resolveAdminToken(dataDir, env[ENV.adminToken]);
  const log = (line: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);

  const server = await startLocalServer({
    host: env[ENV.host] || '127.0.0.1',
    port: intEnv(ENV.port, 7070, env),
    authenticate: bearerAuthenticator(new Map([[token, ADMIN_PRINCIPAL]])),
    log,
    backend: async (url) => {
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
      const gcEvery = intEnv(ENV.gcIntervalSeconds, 3600);
      if (gcEvery === 0) return backend;
      const gc = startGcSchedule(backend.deps, gcEvery * 1000, log);
      return {
        ...backend,
        close: async () => {
          await gc.stop();
          await backend.close();
        },
      };
    },
  });

  log({ level: 'info', msg: 'arca listening', url: server.url, dataDir, backend: 'embedded' });
  if (generated || !env[ENV.adminToken]) {
    process.stderr.write(
      [
        '',
        `Arca is serving ${server.url} (data in ${dataDir}).`,
        `Admin token${generated ? ' (generated, kept in ' + dataDir + '/admin-token)' : ` (from ${dataDir}/admin-token)`}:`,
        `  export ARCA_URL=${server.url} ARCA_TOKEN=${token}`,
        'Try:',
        `  curl -s -H "Authorization: Bearer $ARCA_TOKEN" $ARCA_URL/v1/packages/demo/hello/versions`,
        '',
      ].join('\n'),
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ level: 'info', msg: 'shutting down', signal });
    await server.close();
    log({ level: 'info', msg: 'stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return server;
}
