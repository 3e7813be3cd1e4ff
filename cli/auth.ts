import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { CliError, EXIT, UsageError } from './errors.ts';
import { gitHubOidcTokenSource, isGitHubOidcAvailable } from './githubOidc.ts';
import { type AwsCredentials, regionOfHost, signRequest } from './sigv4.ts';

/** Adds credentials to an API request: a bearer token, a SigV4 signature, or nothing. */
export type Authorizer = (
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string,
) => Promise<Record<string, string>>;

/** Environment variables that say the job holds AWS credentials (configure-aws-credentials, a profile…). */
const AWS_CREDENTIAL_HINTS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
];

/**
 * How the CLI authenticates (`--auth` / ARCA_AUTH, default `auto`); the first match wins:
 * 1. a token given with --token/ARCA_TOKEN (`auto`, `bearer`): the bearer token;
 * 2. `sigv4`, or `auto` on an API Gateway URL with AWS credentials in the environment: SigV4 (the
 *    stack's SigV4 API, reached as CI's configure-aws-credentials step intends);
 * 3. `auto` or `bearer` on GitHub Actions with `id-token: write`: the job's OIDC token, requested by
 *    the CLI. Off API Gateway it wins over AWS credentials, which a job often holds for other steps,
 *    while the request variables exist only when the workflow asked for OIDC;
 * 4. `auto` on an API Gateway URL or with AWS credentials in the environment: SigV4 (the SDK chain);
 * 5. nothing (the server answers 401).
 * docs/cli.md § Credentials says the same for users.
 */
export function resolveAuthorizer(
  mode: string,
  url: URL,
  token: string | undefined,
  env: NodeJS.ProcessEnv,
): Authorizer {
  if (!['auto', 'bearer', 'sigv4'].includes(mode)) {
    throw new UsageError(`--auth must be auto, bearer or sigv4, got ${JSON.stringify(mode)}`);
  }
  if (token && mode !== 'sigv4') return bearer(async () => token);
  const apiGateway = regionOfHost(url.host) !== undefined;
  const awsCredentials = AWS_CREDENTIAL_HINTS.some((name) => env[name]);
  if (mode === 'sigv4' || (mode === 'auto' && apiGateway && awsCredentials)) return sigV4(url, env);
  if (isGitHubOidcAvailable(env)) return bearer(gitHubOidcTokenSource(env));
  if (mode === 'bearer') {
    throw new UsageError(
      '--auth bearer needs --token or ARCA_TOKEN (or GitHub Actions with id-token: write)',
    );
  }
  if (apiGateway || awsCredentials) return sigV4(url, env);
  return async (_method, _url, headers) => headers;
}

function bearer(tokenOf: () => Promise<string>): Authorizer {
  return async (_method, _url, headers) => ({ ...headers, authorization: `Bearer ${await tokenOf()}` });
}

function sigV4(url: URL, env: NodeJS.ProcessEnv): Authorizer {
  const region = regionOfHost(url.host) ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  if (!region) throw new UsageError('SigV4 needs a region: set AWS_REGION');
  const credentials = awsCredentials(env);
  return async (method, target, headers, body) => {
    try {
      return await signRequest({ method, url: target, headers, body, credentials, region });
    } catch (error) {
      throw new CliError(
        EXIT.auth,
        `no AWS credentials for SigV4: ${error instanceof Error ? error.message : String(error)}`,
        'NoCredentials',
        { cause: error },
      );
    }
  };
}

/**
 * AWS credentials: the keys in `env` when set (what CI's configure-aws-credentials exports), else the
 * SDK's default chain (profiles, SSO, web identity, container and instance roles). The chain caches
 * what it resolved and resolves again shortly before it expires, so `arca lease -- ./deploy.sh`
 * running longer than an STS session keeps signing with fresh credentials.
 */
function awsCredentials(env: NodeJS.ProcessEnv): AwsCredentials | AwsCredentialIdentityProvider {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId && secretAccessKey) {
    return {
      accessKeyId,
      secretAccessKey,
      ...(env['AWS_SESSION_TOKEN'] ? { sessionToken: env['AWS_SESSION_TOKEN'] } : {}),
    };
  }
  return defaultProvider();
}
