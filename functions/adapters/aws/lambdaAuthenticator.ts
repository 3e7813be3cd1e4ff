import { type OidcVerifier, PolicyDirectory } from '../../core/access.ts';
import type { CoreDeps } from '../../core/deps.ts';
import type { Principal } from '../../core/model.ts';
import { authenticateToken, TOKEN_PREFIX } from '../../core/tokens.ts';
import type { HttpRequest } from '../../http/types.ts';
import { authenticateOidc, isJwt } from '../oidc/oidcAuthentication.ts';
import { iamPrincipal } from './lambdaPrincipal.ts';

/**
 * How long each `api` instance keeps the namespace policies (IAM members, OIDC trust rules) before
 * reading them again: a binding added or removed reaches every caller within this. Arca tokens are
 * not cached: each request reads its token, so a revoked one answers 401 at once.
 */
export const POLICY_CACHE_MS = 30_000;

/** Who may do what on AWS, besides what the index holds. */
export interface AwsAccess {
  /** Store-wide administrators (`ARCA_ADMIN_PRINCIPALS`), as parseAdminPrincipals returns them. */
  readonly admins: ReadonlySet<string>;
  /** Verifies OIDC bearer tokens from the store's trusted issuers (`ARCA_OIDC_ISSUERS`). */
  readonly oidc: OidcVerifier;
  /** @default POLICY_CACHE_MS; 0 reads the policies on every request that needs them */
  readonly policyCacheMs?: number;
}

/**
 * Authenticates one request: `iamCaller` is the `userArn` API Gateway's IAM authorizer verified
 * (SigV4 API), absent on the bearer API, whose routes have no authorizer; there the function itself
 * verifies `Authorization: Bearer`: an Arca token (read from the index), or a JWT from a trusted
 * issuer (adapters/oidc, as on the local server). Null: 401.
 */
export type LambdaAuthenticator = (
  iamCaller: string | undefined,
  request: HttpRequest,
) => Promise<Principal | null>;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function lambdaAuthenticator(
  access: AwsAccess,
  core: Pick<CoreDeps, 'index' | 'clock'>,
): LambdaAuthenticator {
  const directory = new PolicyDirectory(core.index, access.policyCacheMs ?? POLICY_CACHE_MS, () =>
    core.clock.now().getTime(),
  );
  return async (iamCaller, request) => {
    if (iamCaller !== undefined) return iamPrincipal(iamCaller, access.admins, await directory.policies());
    const header = request.headers.authorization;
    const presented = header ? BEARER.exec(header)?.[1] : undefined;
    if (presented === undefined) return null;
    if (presented.startsWith(TOKEN_PREFIX)) return authenticateToken(core, presented);
    return isJwt(presented) ? authenticateOidc(access.oidc, directory, presented) : null;
  };
}
