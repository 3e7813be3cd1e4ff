import { authorize } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { InvalidRequestError } from './errors.ts';
import {
  DEFAULT_POLICY,
  DEFAULT_RETENTION,
  type MemberBinding,
  type NamespacePolicy,
  type RetentionPolicy,
  type TrustRule,
} from './model.ts';

/** The namespace's policy, or the documented defaults when none was set. */
export async function policyFor(deps: CoreDeps, namespace: string): Promise<NamespacePolicy> {
  return (await deps.index.getPolicy(namespace)) ?? DEFAULT_POLICY;
}

export interface PolicyInput {
  readonly stages?: readonly string[];
  readonly enforceOrder?: boolean;
  readonly immutableStages?: readonly string[];
  readonly retention?: Partial<RetentionPolicy>;
  readonly trust?: readonly TrustRule[];
  readonly members?: readonly MemberBinding[];
}

/** Replaces a namespace's policy; omitted fields take the defaults. The namespace's admins only. */
export async function putNamespacePolicy(
  deps: CoreDeps,
  caller: Caller,
  namespace: string,
  input: PolicyInput,
): Promise<NamespacePolicy> {
  authorize(caller.principal, namespace, 'admin');
  const policy: NamespacePolicy = {
    ...(input.stages ? { stages: input.stages } : {}),
    enforceOrder: input.enforceOrder ?? false,
    immutableStages: input.immutableStages ?? [],
    retention: { ...DEFAULT_RETENTION, ...input.retention },
    ...(input.trust ? { trust: input.trust } : {}),
    ...(input.members ? { members: input.members } : {}),
  };
  if (policy.enforceOrder && !policy.stages) {
    throw new InvalidRequestError('enforceOrder needs the ordered list of stages', {
      details: { field: 'enforceOrder' },
    });
  }
  const unknown = policy.stages ? policy.immutableStages.filter((s) => !policy.stages!.includes(s)) : [];
  if (unknown.length > 0) {
    throw new InvalidRequestError(`immutableStages names stages not in stages: ${unknown.join(', ')}`, {
      details: { field: 'immutableStages' },
    });
  }
  for (const [field, rules] of [
    ['trust', policy.trust ?? []],
    ['members', policy.members ?? []],
  ] as const) {
    for (const [i, rule] of rules.entries()) {
      const outside = policy.stages ? (rule.stages ?? []).filter((s) => !policy.stages!.includes(s)) : [];
      if (outside.length > 0) {
        throw new InvalidRequestError(
          `${field}[${i}].stages names stages not in stages: ${outside.join(', ')}`,
          {
            details: { field: `${field}[${i}].stages` },
          },
        );
      }
    }
  }
  const now = deps.clock.now();
  await deps.index.putPolicy(namespace, policy, {
    at: now.toISOString(),
    actor: caller.principal.id,
    action: 'policy.put',
    namespace,
    target: namespace,
    requestId: caller.requestId,
    details: { policy },
  });
  return policy;
}

export async function getNamespacePolicy(
  deps: CoreDeps,
  caller: Caller,
  namespace: string,
): Promise<NamespacePolicy> {
  authorize(caller.principal, namespace, 'admin');
  return policyFor(deps, namespace);
}
