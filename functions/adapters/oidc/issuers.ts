import { ENV } from '../../config/env.ts';

/** Hosts an `http:` issuer may live on: the loopback addresses, for local testing only. */
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/;

/**
 * Checks that `value` is a URL OIDC keys may be fetched from: https, or http on a loopback address
 * (a token's keys fetched in clear text across a network could be swapped). Throws, naming `what`.
 */
export function checkIssuerUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${what} "${value}" is not a URL`);
  }
  if (url.username || url.password || url.search || url.hash)
    throw new Error(`${what} "${value}" must not carry credentials, a query or a fragment`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname)) return url;
  throw new Error(
    `${what} "${value}" must be https (http only on a loopback address: 127.0.0.0/8, [::1], localhost)`,
  );
}

/**
 * The trusted issuers named in `ARCA_OIDC_ISSUERS` (comma-separated), each checked by
 * `checkIssuerUrl`; empty when the variable is unset. Throws at start-up on a bad entry.
 */
export function oidcIssuersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const issuers = (env[ENV.oidcIssuers] ?? '')
    .split(',')
    .map((issuer) => issuer.trim())
    .filter((issuer) => issuer !== '');
  for (const issuer of issuers) checkIssuerUrl(issuer, `${ENV.oidcIssuers}: issuer`);
  return issuers;
}
