import { spawn } from 'node:child_process';
import { constants, hostname, userInfo } from 'node:os';
import { COMMON_HELP, type Command, describe, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';
import { formatRef, parseDuration, parseVersionRef } from '../refs.ts';

export const lease: Command = {
  help: `Usage: arca lease <ns>/<pkg>@<version> [--ttl 15m] [--holder name] -- <command…>

Holds a lease on a version while a command runs (a deploy, an audit), so GC keeps the version and
its blobs. The lease is renewed every third of its TTL and released when the command ends, even
when it fails; arca exits with the command's exit code (128+n when killed by signal n). The lease
id is passed to the command as ARCA_LEASE_ID.

Options:
  --ttl <dur>       lease duration, renewed while the command runs (60s..24h; default 15m)
  --holder <name>   who holds it (default: the CI job, else user@host)
${COMMON_HELP}

Examples:
  arca lease payments/api-server@1.4.2 --ttl 15m -- ./deploy.sh 1.4.2
  arca lease payments/api-server@1.4.2 -- kubectl rollout status deploy/api`,
  passthrough: true,
  options: { ttl: { type: 'string', default: '15m' }, holder: { type: 'string' } },
  run: async (ctx) => {
    const ref = parseVersionRef(ctx.positionals[0]);
    if (ctx.positionals.length > 1) {
      throw new UsageError('put the command after `--`: arca lease <ref> --ttl 15m -- <command…>');
    }
    const [program, ...args] = ctx.rest;
    if (!program) throw new UsageError('lease needs a command after `--`');
    const ttlSeconds = parseDuration(stringOption(ctx.values, 'ttl') ?? '15m');
    if (ttlSeconds < 60 || ttlSeconds > 86_400) throw new UsageError('--ttl must be between 60s and 24h');
    const holder = stringOption(ctx.values, 'holder') ?? defaultHolder(ctx.env);
    const client = ctx.client();

    const { leaseId, expiresAt } = await client.acquireLease(ref, holder, ttlSeconds);
    ctx.info(`leased ${formatRef(ref)} as ${holder} until ${expiresAt} (lease ${leaseId})`);
    const renewal = setInterval(
      () =>
        void client
          .renewLease(leaseId, ttlSeconds)
          .catch((error) => ctx.info(`arca lease: could not renew lease ${leaseId}: ${describe(error)}`)),
      Math.max(1, ttlSeconds / 3) * 1000,
    );
    let code: number;
    try {
      code = await run(program, args, { ...ctx.env, ARCA_LEASE_ID: leaseId });
    } finally {
      clearInterval(renewal);
      await client
        .releaseLease(leaseId)
        .then(() => ctx.info(`released lease ${leaseId}`))
        .catch((error) => ctx.info(`arca lease: could not release lease ${leaseId}: ${describe(error)}`));
    }
    return code;
  },
};

/** Runs the command with our stdio, forwarding SIGINT/SIGTERM; resolves with its exit code. */
function run(program: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(`arca lease: cannot run ${program}: ${error.code ?? error.message}\n`);
      resolve(error.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (status, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(status ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

function defaultHolder(env: NodeJS.ProcessEnv): string {
  if (env['GITHUB_RUN_ID']) return `github:${env['GITHUB_REPOSITORY'] ?? ''}#${env['GITHUB_RUN_ID']}`;
  if (env['CI_JOB_ID']) return `gitlab:${env['CI_PROJECT_PATH'] ?? ''}#${env['CI_JOB_ID']}`;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return `${user}@${hostname()}`;
}
