import {
  type OidcVerifier,
  type PolicyDirectory,
  principalOfToken,
  type VerifiedToken,
} from '../../core/access.ts';
import type { NamespacePolicy, Principal } from '../../core/model.ts';

/** A compact JWS: three base64url segments (the last empty for an unsigned token, which never verifies). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** True when a bearer token looks like a JWT, so it goes to the OIDC verifier. */
export const isJwt = (token: string): boolean => JWT_SHAPE.test(token);

/** True when some trust rule of the token's issuer, in any namespace, names one of its audiences. */
function audienceTrusted(policies: ReadonlyMap<string, NamespacePolicy>, token: VerifiedToken): boolean {
  for (const policy of policies.values())
    for (const rule of policy.trust ?? [])
      if (rule.issuer === token.issuer && token.audiences.includes(rule.audience)) return true;
  return false;
}

/**
 * The principal of an OIDC bearer token, or null (401) when it does not verify or is meant for an
 * audience no trust rule of its issuer names (a token minted for another service). A token that is
 * for Arca but matches no rule's claims gets a principal with no roles: its requests answer 403.
 */
export async function authenticateOidc(
  verifier: OidcVerifier,
  directory: PolicyDirectory,
  token: string,
): Promise<Principal | null> {
  const verified = await verifier.verify(token);
  if (!verified) return null;
  const policies = await directory.policies();
  return audienceTrusted(policies, verified) ? principalOfToken(policies, verified) : null;
}
