import { authorize, authorizePromote } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { InvalidRequestError, NotFoundError, NotPromotableError } from './errors.ts';
import { emitEvent, versionPromotedEvent } from './events.ts';
import { enforceGates } from './gates.ts';
import { measured } from './metrics.ts';
import { policyFor } from './policies.ts';
import { getVersion, type PackageRef, type VersionRef } from './versions.ts';

export interface PromotionResult {
  readonly stage: string;
  readonly version: string;
  readonly previousVersion: string | null;
}

/**
 * Moves a stage pointer to a version. A missing version is 404 before any policy check; only an
 * `available` version is promotable; the stage's gates (core/gates.ts) are checked next, then the
 * namespace's stage list, order and immutable stages are enforced inside the index transaction, so
 * a concurrent GC or promotion cannot slip between.
 */
export function promoteVersion(
  deps: CoreDeps,
  caller: Caller,
  ref: VersionRef & { readonly stage: string },
): Promise<PromotionResult> {
  return measured(deps.metrics, 'promotions', () => promote(deps, caller, ref));
}

async function promote(
  deps: CoreDeps,
  caller: Caller,
  ref: VersionRef & { readonly stage: string },
): Promise<PromotionResult> {
  authorizePromote(caller.principal, ref.namespace, ref.stage);
  const version = await getVersion(deps, caller, ref);
  if (version.state !== 'available') {
    throw new NotPromotableError(
      `version ${ref.namespace}/${ref.package}@${ref.version} is ${version.state}`,
      {
        details: { state: version.state },
      },
    );
  }
  const policy = await policyFor(deps, ref.namespace);
  const position = policy.stages?.indexOf(ref.stage) ?? -1;
  if (policy.stages && position === -1) {
    throw new InvalidRequestError(
      `stage ${ref.stage} is not one of ${ref.namespace}'s stages: ${policy.stages.join(', ')}`,
      {
        details: { field: 'stage', stages: policy.stages },
      },
    );
  }
  await enforceGates(deps, caller, policy, version, ref.stage);
  const now = deps.clock.now();
  const { previousVersion } = await deps.index.promote(
    {
      ...ref,
      now,
      by: caller.principal.id,
      immutable: policy.immutableStages.includes(ref.stage),
      ...(policy.enforceOrder && position > 0 ? { requirePriorStage: policy.stages![position - 1]! } : {}),
    },
    {
      at: now.toISOString(),
      actor: caller.principal.id,
      action: 'stage.promote',
      namespace: ref.namespace,
      target: `${ref.namespace}/${ref.package}@${ref.version}`,
      requestId: caller.requestId,
      details: { stage: ref.stage },
    },
  );
  deps.metrics?.observe('timeToPromote', Math.max(0, now.getTime() - Date.parse(version.createdAt)) / 1000, {
    stage: ref.stage,
  });
  await emitEvent(
    deps,
    versionPromotedEvent({
      ref,
      stage: ref.stage,
      previousVersion,
      by: caller.principal.id,
      requestId: caller.requestId,
      at: now,
    }),
  );
  return { stage: ref.stage, version: ref.version, previousVersion };
}

export interface StageDescription {
  readonly stage: string;
  readonly version: string;
  readonly promotedAt: string;
  readonly history: readonly { readonly version: string; readonly promotedAt: string; readonly by: string }[];
}

/** The stage pointer with its history, newest first. */
export async function getStage(
  deps: CoreDeps,
  caller: Caller,
  ref: PackageRef & { readonly stage: string },
): Promise<StageDescription> {
  authorize(caller.principal, ref.namespace, 'read');
  const view = await deps.index.getStage(ref.namespace, ref.package, ref.stage, 100);
  if (!view) throw new NotFoundError(`stage ${ref.stage} of ${ref.namespace}/${ref.package} is not set`);
  return {
    stage: view.stage,
    version: view.version,
    promotedAt: view.promotedAt,
    history: view.history.map((h) => ({ version: h.version, promotedAt: h.promotedAt, by: h.by })),
  };
}

/** The version a stage names now: what CD deploys. */
export async function resolveStage(
  deps: CoreDeps,
  caller: Caller,
  ref: PackageRef & { readonly stage: string },
) {
  const stage = await getStage(deps, caller, ref);
  return { namespace: ref.namespace, package: ref.package, version: stage.version };
}
