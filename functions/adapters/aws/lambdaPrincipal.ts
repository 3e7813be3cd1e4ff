import { ENV } from '../../config/env.ts';
import { grantsOfMember } from '../../core/access.ts';
import type { NamespacePolicy, Principal } from '../../core/model.ts';

/**
 * Store-wide administrators: IAM principal ARNs, comma-separated. A role ARN
 * (`arn:aws:iam::<acct>:role/<name>`) matches every session of that role. Nobody else is an admin.
 * They are named at deploy time, on purpose outside the index: the index cannot lock them out.
 */
export const ADMIN_PRINCIPALS_ENV = ENV.adminPrincipals;

/**
 * Variables of the role maps Arca read before IAM members and OIDC trust rules moved into the
 * namespace policies. They are read no more: a cold start that finds one logs an error naming the
 * replacement, and the callers they bound hold no role (403) until an admin binds them in a policy.
 */
export const RETIRED_ROLE_MAPS = [ENV.iamRoles, ENV.jwtRoles] as const;

/** `arn:aws:iam::1:role/path/Name` → `arn:aws:iam::1:role/Name`: assumed-role ARNs carry no path. */
export function withoutRolePath(arn: string): string {
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

/** The retired role-map variables still set in `env` (see RETIRED_ROLE_MAPS). */
export function retiredRoleMapsIn(env: NodeJS.ProcessEnv): string[] {
  return RETIRED_ROLE_MAPS.filter((name) => (env[name] ?? '') !== '');
}

/**
 * Members bound by a role ARN with a path (`role/ci/deployer`) match the session ARNs API Gateway
 * reports, which carry none (`assumed-role/deployer/run-1`).
 */
function withMembersWithoutRolePath(
  policies: ReadonlyMap<string, NamespacePolicy>,
): Map<string, NamespacePolicy> {
  return new Map(
    [...policies].map(([namespace, policy]) => [
      namespace,
      policy.members
        ? {
            ...policy,
            members: policy.members.map((m) => ({ ...m, principal: withoutRolePath(m.principal) })),
          }
        : policy,
    ]),
  );
}

/**
 * The principal of a caller API Gateway's IAM authorizer verified (`userArn`: a user, or an
 * assumed-role session). Its roles are the namespace policies' `members` naming its ARN or, for a
 * session, its role's ARN; admin only when named in `admins`. Fails closed: a caller bound nowhere
 * holds no role.
 */
export function iamPrincipal(
  userArn: string,
  admins: ReadonlySet<string>,
  policies: ReadonlyMap<string, NamespacePolicy>,
): Principal {
  const arns = [userArn, roleArnOf(userArn)].filter((arn): arn is string => arn !== undefined);
  const grants = grantsOfMember(withMembersWithoutRolePath(policies), arns);
  return {
    id: userArn,
    kind: 'iam',
    admin: arns.some((arn) => admins.has(arn)),
    roles: grants.roles,
    ...(Object.keys(grants.promoteStages).length > 0 ? { promoteStages: grants.promoteStages } : {}),
  };
}
