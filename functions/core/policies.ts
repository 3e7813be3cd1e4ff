import { createPublicKey } from 'node:crypto';
import { authorize } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { InvalidRequestError } from './errors.ts';
import {
  DEFAULT_POLICY,
  DEFAULT_RETENTION,
  type MemberBinding,
  type NamespacePolicy,
  type PromotionGate,
  type PublisherKey,
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
  readonly gates?: Readonly<Record<string, PromotionGate>>;
  readonly publisherKeys?: readonly PublisherKey[];
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
    ...(input.gates ? { gates: input.gates } : {}),
    ...(input.publisherKeys ? { publisherKeys: input.publisherKeys } : {}),
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
  checkGates(policy);
  checkPublisherKeys(policy.publisherKeys ?? []);
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

/**
 * Gates name stages of `stages` (so a policy without a stage list has none), and a soak time needs
 * a stage before the gated one to soak in.
 */
function checkGates(policy: NamespacePolicy): void {
  for (const [stage, gate] of Object.entries(policy.gates ?? {})) {
    const position = policy.stages?.indexOf(stage) ?? -1;
    if (position === -1) {
      throw new InvalidRequestError(`gates.${stage}: ${stage} is not one of the policy's stages`, {
        details: { field: `gates.${stage}`, stages: policy.stages ?? [] },
      });
    }
    if (gate.minSoakSeconds !== undefined && position === 0) {
      throw new InvalidRequestError(
        `gates.${stage}.minSoakSeconds: ${stage} is the first stage, there is no stage before it to soak in`,
        { details: { field: `gates.${stage}.minSoakSeconds` } },
      );
    }
  }
}

const SUPPORTED_KEY_TYPES = ['ec', 'rsa', 'rsa-pss', 'ed25519'];
const SUPPORTED_CURVES = ['prime256v1', 'secp384r1'];

/** Each key must parse as a public key Node can verify with, so a typo fails here, not at attest time. */
function checkPublisherKeys(keys: readonly PublisherKey[]): void {
  for (const [i, key] of keys.entries()) {
    try {
      const parsed = createPublicKey(key.publicKeyPem);
      const type = parsed.asymmetricKeyType ?? '';
      const curve = parsed.asymmetricKeyDetails?.namedCurve ?? '';
      if (!SUPPORTED_KEY_TYPES.includes(type) || (type === 'ec' && !SUPPORTED_CURVES.includes(curve))) {
        throw new Error(`unsupported key type ${type} ${curve}`);
      }
    } catch (cause) {
      throw new InvalidRequestError(
        `publisherKeys[${i}].publicKeyPem is not a supported public key (ECDSA P-256/P-384, RSA or Ed25519, SPKI PEM)`,
        { cause, details: { field: `publisherKeys[${i}].publicKeyPem`, keyId: key.keyId } },
      );
    }
  }
}

export async function getNamespacePolicy(
  deps: CoreDeps,
  caller: Caller,
  namespace: string,
): Promise<NamespacePolicy> {
  authorize(caller.principal, namespace, 'admin');
  return policyFor(deps, namespace);
}
