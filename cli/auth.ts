import { CliError, EXIT, UsageError } from './errors.ts';
import { type AwsCredentials, regionOfHost, signRequest } from './sigv4.ts';

/** Adds credentials to an API request: a bearer token, a SigV4 signature, or nothing. */
export type Authorizer = (
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string,
) => Promise<Record<string, string>>;

/**
 * How the CLI authenticates (`--auth` / ARCA_AUTH, default `auto`): a bearer token when one is given
 * (the local server, OIDC tokens); else SigV4 with the AWS credentials of the environment when there
 * are some or the URL is an API Gateway one (Arca on AWS authorises with IAM); else nothing (→ 401).
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
  const awsHints = [
    'AWS_ACCESS_KEY_ID',
    'AWS_PROFILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ];
  const useSigV4 =
    mode === 'sigv4' ||
    (mode === 'auto' &&
      !token &&
      (regionOfHost(url.host) !== undefined || awsHints.some((name) => env[name])));
  if (useSigV4) {
    const region = regionOfHost(url.host) ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
    if (!region) throw new UsageError('SigV4 needs a region: set AWS_REGION');
    let credentials: Promise<AwsCredentials> | undefined;
    return async (method, target, headers, body) => {
      credentials ??= loadAwsCredentials(env);
      return signRequest({ method, url: target, headers, body, credentials: await credentials, region });
    };
  }
  if (mode === 'bearer' && !token) throw new UsageError('--auth bearer needs --token or ARCA_TOKEN');
  return async (_method, _url, headers) =>
    token ? { ...headers, authorization: `Bearer ${token}` } : headers;
}

/**
 * AWS credentials: the environment's keys when set (what CI's configure-aws-credentials exports);
 * otherwise the SDK's default chain (profiles, SSO, web identity, container/instance roles), loaded
 * only then, through the S3 client Arca already depends on.
 */
async function loadAwsCredentials(env: NodeJS.ProcessEnv): Promise<AwsCredentials> {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId && secretAccessKey)
    return { accessKeyId, secretAccessKey, sessionToken: env['AWS_SESSION_TOKEN'] };
  try {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const client = new S3Client({});
    const identity = await client.config.credentials();
    client.destroy();
    return identity;
  } catch (error) {
    throw new CliError(
      EXIT.auth,
      `no AWS credentials for SigV4: ${error instanceof Error ? error.message : String(error)}`,
      'NoCredentials',
      { cause: error },
    );
  }
}
