import type { MemberBinding, NamespacePolicy, Principal, Role, TrustRule } from './model.ts';

/** What a caller holds, gathered from the namespaces' policies. */
export interface Grants {
  readonly roles: Readonly<Record<string, readonly Role[]>>;
  /** Namespaces where every matching rule limited `promote` to stages: the union of those stages. */
  readonly promoteStages: Readonly<Record<string, readonly string[]>>;
}

type Bound = Pick<TrustRule, 'roles' | 'stages'>;

/**
 * Unites the roles of every matching rule of every namespace. `promote` is limited to stages only
 * when every rule granting it there is limited; a rule without stages lifts the limit.
 */
function gather(
  policies: ReadonlyMap<string, NamespacePolicy>,
  matching: (policy: NamespacePolicy) => readonly Bound[],
): Grants {
  const roles: Record<string, Role[]> = {};
  const promoteStages: Record<string, string[]> = {};
  for (const [namespace, policy] of policies) {
    const rules = matching(policy);
    if (rules.length === 0) continue;
    roles[namespace] = [...new Set(rules.flatMap((r) => r.roles))];
    const promoting = rules.filter((r) => r.roles.includes('promote') || r.roles.includes('admin'));
    if (promoting.length > 0 && promoting.every((r) => r.stages !== undefined)) {
      promoteStages[namespace] = [...new Set(promoting.flatMap((r) => r.stages ?? []))];
    }
  }
  return { roles, promoteStages };
}

/** A claim value matches a rule's value exactly, or by prefix when the rule's value ends in `*`. */
export function claimMatches(expected: string, actual: unknown): boolean {
  if (typeof actual !== 'string') return false;
  return expected.endsWith('*') ? actual.startsWith(expected.slice(0, -1)) : actual === expected;
}

/** The roles verified OIDC claims earn under the namespaces' trust rules. */
export function grantsOfClaims(
  policies: ReadonlyMap<string, NamespacePolicy>,
  token: {
    readonly issuer: string;
    readonly audiences: readonly string[];
    readonly claims: Readonly<Record<string, unknown>>;
  },
): Grants {
  return gather(policies, (policy) =>
    (policy.trust ?? []).filter(
      (rule) =>
        rule.issuer === token.issuer &&
        token.audiences.includes(rule.audience) &&
        Object.entries(rule.claims).every(([name, value]) => claimMatches(value, token.claims[name])),
    ),
  );
}

/** The roles IAM bindings give a caller known by these ARNs (its user or session ARN, its role ARN). */
export function grantsOfMember(
  policies: ReadonlyMap<string, NamespacePolicy>,
  arns: readonly string[],
): Grants {
  return gather(policies, (policy) =>
    (policy.members ?? []).filter((m: MemberBinding) => arns.includes(m.principal)),
  );
}

/** An OIDC token whose signature, issuer, audience and times were verified. */
export interface VerifiedToken {
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Verifies OIDC tokens from the store's trusted issuers; null for any token that does not verify. */
export interface OidcVerifier {
  verify(token: string): Promise<VerifiedToken | null>;
}

/**
 * Every namespace's policy, read at most once per `ttlMs` (0: on every call). Trust rules and IAM
 * members are looked up on every request that carries an OIDC token or an IAM identity; a policy
 * change reaches them within `ttlMs`.
 */
export class PolicyDirectory {
  private cached: { at: number; policies: Promise<Map<string, NamespacePolicy>> } | undefined;

  constructor(
    private readonly index: { listPolicies(): Promise<Map<string, NamespacePolicy>> },
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  policies(): Promise<Map<string, NamespacePolicy>> {
    const at = this.now();
    if (!this.cached || at - this.cached.at >= this.ttlMs) {
      const policies = this.index.listPolicies();
      this.cached = { at, policies };
      policies.catch(() => {
        this.cached = undefined; // a failed read is not cached
      });
    }
    return this.cached.policies;
  }
}

/** The claims worth keeping on the principal (audit events, the version's publisher): CI provenance. */
const KEPT_CLAIMS = [
  'sub',
  'repository',
  'repository_owner',
  'workflow',
  'workflow_ref',
  'job_workflow_ref',
  'ref',
  'ref_type',
  'sha',
  'run_id',
  'run_attempt',
  'environment',
  'actor',
  // GitLab CI
  'project_path',
  'pipeline_id',
  'job_id',
  'ci_config_ref_uri',
];

/** The principal of a verified OIDC token: the roles its claims earn under the trust rules (maybe none). */
export function principalOfToken(
  policies: ReadonlyMap<string, NamespacePolicy>,
  token: VerifiedToken,
): Principal {
  const grants = grantsOfClaims(policies, token);
  const claims: Record<string, string> = { iss: token.issuer };
  for (const name of KEPT_CLAIMS) {
    const value = token.claims[name];
    if (typeof value === 'string' || typeof value === 'number') claims[name] = String(value);
  }
  return {
    id: `oidc:${token.issuer}#${token.subject}`,
    kind: 'oidc',
    admin: false,
    roles: grants.roles,
    ...(Object.keys(grants.promoteStages).length > 0 ? { promoteStages: grants.promoteStages } : {}),
    claims,
  };
}
