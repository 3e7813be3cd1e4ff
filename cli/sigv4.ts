import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** AWS Signature Version 4 for the API's requests (its HTTP API authorises IAM callers), by the SDK's own signer. */
export type AwsCredentials = AwsCredentialIdentity;

export interface SignInput {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Fixed credentials, or a provider asked on every request (so expiring ones are refreshed). */
  readonly credentials: AwsCredentials | AwsCredentialIdentityProvider;
  readonly region: string;
  readonly service?: string;
  /** The signing time; defaults to now. */
  readonly now?: Date;
}

/** Returns `headers` plus `host`, `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` and `authorization`. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: input.service ?? 'execute-api',
    region: input.region,
    credentials: input.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of input.url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const signed = await signer.sign(
    {
      method: input.method.toUpperCase(),
      protocol: input.url.protocol,
      hostname: input.url.hostname,
      ...(input.url.port ? { port: Number(input.url.port) } : {}),
      path: input.url.pathname,
      query,
      headers: { ...input.headers, host: input.url.host },
      body: input.body,
    },
    input.now ? { signingDate: input.now } : {},
  );
  return signed.headers as Record<string, string>;
}

/** `abc.execute-api.eu-west-1.amazonaws.com` → `eu-west-1`. */
export const regionOfHost = (host: string): string | undefined =>
  /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host)?.[1];
