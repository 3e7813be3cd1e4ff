import type { MemberBinding, NamespacePolicy, Role, TrustRule } from './model.ts';

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
