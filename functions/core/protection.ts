import type { Lease, NamespacePolicy, PackageStages } from './model.ts';

/** What a package's versions are protected by: computed once per package, asked per version. */
export interface PackageProtection {
  readonly stages: PackageStages;
  readonly leases: readonly Lease[];
  readonly policy: NamespacePolicy;
}

export interface VersionProtection {
  /** Stages whose pointer names the version now. */
  readonly stages: readonly string[];
  readonly leases: readonly Lease[];
  /** Why GC may not delete it now; empty when it may. */
  readonly reasons: readonly string[];
}

/**
 * A version is protected while a stage pointer names it, while it is among the last K versions
 * promoted to any stage (a rollback target), or while a lease on it is active.
 */
export function protectionOf(p: PackageProtection, version: string): VersionProtection {
  const stages = [...p.stages.pointers].filter(([, v]) => v === version).map(([stage]) => stage);
  const keep = p.policy.retention.keepPromotedPerStage;
  const rollbackTargets = [...p.stages.promoted]
    .filter(([, versions]) => versions.slice(0, keep).includes(version))
    .map(([stage]) => stage);
  const leases = p.leases.filter((l) => l.version === version);
  const reasons = [
    ...stages.map((s) => `stage:${s}`),
    ...rollbackTargets.filter((s) => !stages.includes(s)).map((s) => `promoted:${s}`),
    ...leases.map((l) => `lease:${l.leaseId}`),
  ];
  return { stages, leases, reasons };
}

export const NO_PROTECTION: PackageProtection = {
  stages: { pointers: new Map(), promoted: new Map() },
  leases: [],
  policy: {
    enforceOrder: false,
    immutableStages: [],
    retention: { keepLast: 0, maxAgeDays: 0, keepPromotedPerStage: 0, graceHours: 0 },
  },
};
