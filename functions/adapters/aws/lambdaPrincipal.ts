import { ENV } from '../../config/env.ts';
import type { Principal, Role } from '../../core/model.ts';
import { isNamespace } from '../../core/names.ts';

/**
 * Store-wide administrators: IAM principal ARNs, comma-separated. A role ARN
 * (`arn:aws:iam::<acct>:role/<name>`) matches every session of that role. Nobody else is an admin:
 * neither an unlisted caller nor the `*` entry of a role map.
 */
export const ADMIN_PRINCIPALS_ENV = ENV.adminPrincipals;
/**
 * Roles of IAM callers, as JSON: `{"<principal ARN>|*": {"roles": {"<ns>|*": [roles]}}}`.
 * A key is matched against the caller's `userArn` and, for an assumed role, against its role ARN;
 * the key `*` applies to every caller not listed. A caller matching nothing authenticates but holds
 * no role: every route but health answers 403. The `*` key may not carry the `admin` role, because it
 * names whoever IAM lets invoke the API, which in most accounts includes every broad-permission role.
 */
export const IAM_ROLES_ENV = ENV.iamRoles;
/**
 * Roles of OIDC callers (JWT authorizer, e.g. CI keyless publishing), as JSON keyed by a `sub` pattern
 * where `*` matches anything: `{"repo:acme/payments:ref:refs/heads/main": {"roles": {"payments": ["write"]}}}`.
 * The first matching key wins; a subject matching none authenticates but holds no role (403).
 */
export const JWT_ROLES_ENV = ENV.jwtRoles;

const ROLES: readonly Role[] = ['read', 'write', 'promote', 'admin'];

interface Grant {
  readonly roles: Readonly<Record<string, readonly Role[]>>;
}

export type RoleMap = ReadonlyMap<string, Grant>;

/** Who may do what, read once at cold start. */
export interface CallerBindings {
  /** Normalised ARNs of store-wide administrators. */
  readonly admins: ReadonlySet<string>;
  readonly iam: RoleMap;
  readonly jwt: RoleMap;
}

/** `arn:aws:iam::1:role/path/Name` → `arn:aws:iam::1:role/Name`: assumed-role ARNs carry no path. */
function withoutRolePath(arn: string): string {
  return arn.replace(/^(arn:aws[a-z-]*:iam::\d{12}:role\/)(?:[^/]+\/)*([^/]+)$/, '$1$2');
}

/** `arn:aws:sts::1:assumed-role/Name/session` → `arn:aws:iam::1:role/Name`. */
function roleArnOf(userArn: string): string | undefined {
  const m = /^arn:(aws[a-z-]*):sts::(\d+):assumed-role\/([^/]+)\//.exec(userArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

/** IAM name characters only: a `*` would read as a wildcard, and no principal ARN holds one. */
const PRINCIPAL_ARN =
  /^arn:aws[a-z-]*:(?:iam::\d{12}:(?:role|user)(?:\/[\w+=,.@-]+)+|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/;

/** Parses the administrators' ARNs at cold start (and at synth); anything but an IAM ARN fails it. */
export function parseAdminPrincipals(name: string, raw: string | undefined): ReadonlySet<string> {
  const arns = (raw ?? '')
    .split(',')
    .map((arn) => arn.trim())
    .filter((arn) => arn !== '');
  for (const arn of arns)
    if (!PRINCIPAL_ARN.test(arn))
      throw new Error(`${name}: '${arn}' is not an IAM role, user or assumed-role session ARN`);
  return new Set(arns.map(withoutRolePath));
}

function parseGrant(name: string, key: string, value: unknown): Grant {
  const fail = (why: string) => new Error(`${name}: the entry '${key}' ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail('must be an object {"roles": {...}}');
  if ('admin' in value)
    throw fail(
      `may not set "admin": name store administrators in ${ADMIN_PRINCIPALS_ENV} (the adminPrincipals prop)`,
    );
  const extra = Object.keys(value).filter((k) => k !== 'roles');
  if (extra.length > 0) throw fail(`has unknown fields: ${extra.join(', ')}`);
  const roles = (value as { roles?: unknown }).roles ?? {};
  if (typeof roles !== 'object' || roles === null || Array.isArray(roles))
    throw fail('must map namespaces to role lists in "roles"');
  for (const [namespace, list] of Object.entries(roles)) {
    if (namespace !== '*' && !isNamespace(namespace)) throw fail(`names an invalid namespace '${namespace}'`);
    if (!Array.isArray(list) || !list.every((role) => ROLES.includes(role)))
      throw fail(`gives '${namespace}' something other than a list of ${ROLES.join(', ')}`);
    if (key === '*' && list.includes('admin'))
      throw fail('may not grant the admin role: name each administrator by its ARN');
  }
  return { roles: roles as Grant['roles'] };
}

/** Parses a role map at cold start (and at synth); a malformed one fails the start, not a request. */
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
  return new Map(
    Object.entries(parsed).map(([key, value]) => [withoutRolePath(key), parseGrant(name, key, value)]),
  );
}

/** The three variables, parsed; throws on the first malformed one. */
export function callerBindingsFrom(env: NodeJS.ProcessEnv): CallerBindings {
  return {
    admins: parseAdminPrincipals(ADMIN_PRINCIPALS_ENV, env[ADMIN_PRINCIPALS_ENV]),
    iam: parseRoleMap(IAM_ROLES_ENV, env[IAM_ROLES_ENV]),
    jwt: parseRoleMap(JWT_ROLES_ENV, env[JWT_ROLES_ENV]),
  };
}

/** What API Gateway's authorizers put in `requestContext.authorizer` (HTTP API, payload 2.0). */
export interface AuthorizerContext {
  readonly iam?: { readonly userArn?: string; readonly accountId?: string };
  readonly jwt?: { readonly claims?: Readonly<Record<string, unknown>> };
}

const globToRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

function iamPrincipal(userArn: string, bindings: CallerBindings): Principal {
  const roleArn = roleArnOf(userArn);
  const named = (map: { has(arn: string): boolean }) =>
    map.has(userArn) || (roleArn !== undefined && map.has(roleArn));
  const grant =
    bindings.iam.get(userArn) ?? (roleArn ? bindings.iam.get(roleArn) : undefined) ?? bindings.iam.get('*');
  return { id: userArn, kind: 'iam', admin: named(bindings.admins), roles: grant?.roles ?? {} };
}

/**
 * The caller API Gateway authenticated, or null when the route was reached without an authorizer.
 * Fails closed: an authenticated caller with no binding is returned with no role at all.
 */
export function principalOf(
  authorizer: AuthorizerContext | undefined,
  bindings: CallerBindings,
): Principal | null {
  const userArn = authorizer?.iam?.userArn;
  if (userArn) return iamPrincipal(userArn, bindings);
  const claims = authorizer?.jwt?.claims;
  if (claims && typeof claims.sub === 'string') {
    const sub = claims.sub;
    const id = typeof claims.iss === 'string' ? `${claims.iss}#${sub}` : sub;
    for (const [pattern, grant] of bindings.jwt) {
      if (globToRegExp(pattern).test(sub)) return { id, kind: 'oidc', admin: false, roles: grant.roles };
    }
    return { id, kind: 'oidc', admin: false, roles: {} };
  }
  return null;
}
