import { createRemoteJWKSet, decodeJwt, errors, type JWTPayload, jwtVerify, type RemoteJWKSet } from 'jose';
import type { OidcVerifier, VerifiedToken } from '../../core/access.ts';
import { checkIssuerUrl } from './issuers.ts';

/**
 * Signature algorithms accepted: asymmetric only. `none` and the HMAC family never verify, so a
 * token "signed" with an issuer's public key as an HMAC secret is refused whatever its key says.
 */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Largest clock skew ever tolerated between Arca and an issuer, seconds. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 60;

/** Errors that say the token is bad, not the issuer unreachable: answered 401 without a log line. */
const TOKEN_FAULTS = new Set([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
]);

export interface JoseOidcVerifierOptions {
  /** Trusted issuers, exactly as their tokens' `iss` spells them (https, or http on loopback). */
  readonly issuers: readonly string[];
  /** Skew allowed on `exp`, `nbf` and `iat`, seconds (default 30, at most 60). */
  readonly clockToleranceSeconds?: number;
  /**
   * Least time between two JWKS fetches for a key id the cached set lacks (default 30 s): a key
   * rotated in at the issuer verifies once this has passed since the last fetch.
   */
  readonly jwksCooldownMs?: number;
  /** How long fetched keys are used before they are fetched again (default 10 min). */
  readonly jwksMaxAgeMs?: number;
  /** Timeout of each discovery and JWKS request (default 5 s). */
  readonly timeoutMs?: number;
  /** After a failed discovery, how long tokens of that issuer are refused before it is tried again (default 30 s). */
  readonly discoveryRetryMs?: number;
  /** Where a failure to reach an issuer is reported (an invalid token is not). */
  readonly log?: (line: Record<string, unknown>) => void;
  readonly now?: () => number;
}

interface Discovery {
  at: number;
  failed: boolean;
  readonly keys: Promise<RemoteJWKSet>;
}

/** A discovered JWKS location is used this long before the discovery document is read again. */
const DISCOVERY_MAX_AGE_MS = 24 * 3600_000;

/**
 * Verifies OIDC tokens with `jose`: the token's `iss` must be a trusted issuer, whose keys are found
 * through `<issuer>/.well-known/openid-configuration` (its `issuer` must match) and its `jwks_uri`,
 * both cached; the signature must be by one of those keys with an asymmetric algorithm; `exp`, `iat`
 * and `sub` must be present, and `exp`, `nbf` and `iat` hold within the clock tolerance. Whether the
 * audience is one a trust rule names is for the caller (`authenticateOidc`). Every failure is null.
 */
export class JoseOidcVerifier implements OidcVerifier {
  private readonly issuers: ReadonlySet<string>;
  private readonly discovered = new Map<string, Discovery>();
  private readonly tolerance: number;
  private readonly now: () => number;

  constructor(private readonly options: JoseOidcVerifierOptions) {
    for (const issuer of options.issuers) checkIssuerUrl(issuer, 'OIDC issuer');
    this.issuers = new Set(options.issuers);
    this.tolerance = options.clockToleranceSeconds ?? 30;
    if (!(this.tolerance >= 0 && this.tolerance <= MAX_CLOCK_TOLERANCE_SECONDS))
      throw new Error(
        `OIDC clock tolerance must be 0…${MAX_CLOCK_TOLERANCE_SECONDS} s, got ${this.tolerance}`,
      );
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<VerifiedToken | null> {
    let claimed: unknown;
    try {
      claimed = decodeJwt(token).iss; // unverified: only picks whose keys to verify with
    } catch {
      return null;
    }
    if (typeof claimed !== 'string' || !this.issuers.has(claimed)) return null;
    const issuer = claimed;
    try {
      const { payload } = await jwtVerify(token, await this.keysOf(issuer), {
        issuer,
        algorithms: [...OIDC_ALGORITHMS],
        clockTolerance: this.tolerance,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'iat', 'sub', 'aud'],
      });
      // jose checks `iat` only against a maximum age; a token issued in the future is refused here.
      if ((payload.iat as number) > this.now() / 1000 + this.tolerance) return null;
      return verifiedOf(issuer, payload);
    } catch (error) {
      if (!(error instanceof errors.JOSEError && TOKEN_FAULTS.has(error.code))) {
        this.options.log?.({
          level: 'warn',
          msg: 'OIDC issuer unreachable or its keys unusable; token refused',
          issuer,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      return null;
    }
  }

  /** The issuer's key set, discovered once per day (a failed discovery is retried after a pause). */
  private keysOf(issuer: string): Promise<RemoteJWKSet> {
    const at = this.now();
    const cached = this.discovered.get(issuer);
    const maxAge = cached?.failed ? (this.options.discoveryRetryMs ?? 30_000) : DISCOVERY_MAX_AGE_MS;
    if (cached && at - cached.at < maxAge) return cached.keys;
    const entry: Discovery = { at, failed: false, keys: this.discover(issuer) };
    entry.keys.catch(() => {
      entry.failed = true;
      entry.at = this.now();
    });
    this.discovered.set(issuer, entry);
    return entry.keys;
  }

  private async discover(issuer: string): Promise<RemoteJWKSet> {
    const timeout = this.options.timeoutMs ?? 5000;
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeout) });
    if (response.status !== 200) throw new Error(`discovery ${url} answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (document.issuer !== issuer)
      throw new Error(`discovery ${url} names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
    if (typeof document.jwks_uri !== 'string') throw new Error(`discovery ${url} has no jwks_uri`);
    const jwksUri = checkIssuerUrl(document.jwks_uri, `jwks_uri of ${issuer}`);
    if (new URL(issuer).protocol === 'https:' && jwksUri.protocol !== 'https:')
      throw new Error(`jwks_uri of ${issuer} must be https`);
    return createRemoteJWKSet(jwksUri, {
      timeoutDuration: timeout,
      cooldownDuration: this.options.jwksCooldownMs ?? 30_000,
      cacheMaxAge: this.options.jwksMaxAgeMs ?? 600_000,
    });
  }
}

function verifiedOf(issuer: string, payload: JWTPayload): VerifiedToken {
  const aud = payload.aud!;
  return {
    issuer,
    subject: payload.sub!,
    audiences: typeof aud === 'string' ? [aud] : aud,
    claims: payload,
  };
}
