import { ENV } from '../../config/env.ts';
import type { Principal, Role } from '../../core/model.ts';

/**
 * Roles of IAM callers, as JSON: `{"<principal ARN>": {"admin": true} | {"roles": {"<ns>|*": [roles]}}}`.
 * A key is matched against the caller's `userArn` and, for an assumed role, against its role ARN
 * (`arn:aws:iam::<acct>:role/<name>`); the key `*` applies to every caller not listed.
 * Unset, or a caller matching no key and no `*`: the caller is an admin. The HTTP API's IAM
 * authorization is the gate there: only principals granted `execute-api:Invoke` reach Arca at all.
 */
export const IAM_ROLES_ENV = ENV.iamRoles;
/**
 * Roles of OIDC callers (JWT authorizer, e.g. CI keyless publishing), as JSON keyed by a `sub` pattern
 * where `*` matches anything: `{"repo:acme/payments:ref:refs/heads/main": {"roles": {"payments": ["write"]}}}`.
 * A token whose subject matches no key authenticates but holds no role (every route then answers 403).
 */
export const JWT_ROLES_ENV = ENV.jwtRoles;

interface Grant {
  readonly admin?: boolean;
  readonly roles?: Readonly<Record<string, readonly Role[]>>;
}

export type RoleMap = ReadonlyMap<string, Grant>;

/** Parses a role map at cold start; a malformed one fails the start, not a request. */
export function parseRoleMap(name: string, raw: string | undefined): RoleMap {
  if (!raw) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (cause) {
    throw new Error(`${name} is not valid JSON`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${name} must be a JSON object keyed by principal`);
  }
  return new Map(Object.entries(parsed as Record<string, Grant>));
}

/** What API Gateway's authorizers put in `requestContext.authorizer` (HTTP API, payload 2.0). */
export interface AuthorizerContext {
  readonly iam?: { readonly userArn?: string; readonly accountId?: string };
  readonly jwt?: { readonly claims?: Readonly<Record<string, unknown>> };
}

const grantOf = (id: string, grant: Grant): Principal => ({
  id,
  admin: grant.admin === true,
  roles: grant.roles ?? {},
});

/** `arn:aws:sts::1:assumed-role/Name/session` → `arn:aws:iam::1:role/Name`. */
function roleArnOf(userArn: string): string | undefined {
  const m = /^arn:(aws[a-z-]*):sts::(\d+):assumed-role\/([^/]+)\//.exec(userArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

const globToRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

/** The caller API Gateway authenticated, or null when the route was reached without an authorizer. */
export function principalOf(
  authorizer: AuthorizerContext | undefined,
  maps: { readonly iam: RoleMap; readonly jwt: RoleMap },
): Principal | null {
  const userArn = authorizer?.iam?.userArn;
  if (userArn) {
    const roleArn = roleArnOf(userArn);
    const grant = maps.iam.get(userArn) ?? (roleArn ? maps.iam.get(roleArn) : undefined) ?? maps.iam.get('*');
    return grant ? grantOf(userArn, grant) : { id: userArn, admin: true, roles: {} };
  }
  const claims = authorizer?.jwt?.claims;
  if (claims && typeof claims.sub === 'string') {
    const sub = claims.sub;
    const id = typeof claims.iss === 'string' ? `${claims.iss}#${sub}` : sub;
    for (const [pattern, grant] of maps.jwt) {
      if (globToRegExp(pattern).test(sub)) return grantOf(id, grant);
    }
    return { id, admin: false, roles: {} };
  }
  return null;
}
