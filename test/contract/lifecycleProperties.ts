import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { CoreDeps } from '../../functions/core/deps.ts';
import { resolveDownload } from '../../functions/core/downloads.ts';
import { runGarbageCollection } from '../../functions/core/gc.ts';
import { acquireLease, releaseLease } from '../../functions/core/leases.ts';
import { putNamespacePolicy } from '../../functions/core/policies.ts';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { promoteVersion } from '../../functions/core/stages.ts';
import { commitUpload, createUpload, type UploadInstruction } from '../../functions/core/uploads.ts';
import { getVersion } from '../../functions/core/versions.ts';
import { admin } from '../support/coreHarness.ts';
import { sha256 } from '../support/fixtures.ts';
import type { TestClock } from '../support/testClock.ts';

export interface LifecycleBackend {
  readonly deps: CoreDeps;
  readonly clock: TestClock;
  /** Sends `data` the way the instruction says (signed PUT). */
  upload(instruction: UploadInstruction, data: Buffer): Promise<void>;
  /** The stored bytes of a blob, or null when storage has none. */
  readBlob(sha256: string): Promise<Buffer | null>;
  close(): Promise<void>;
}

type Step =
  | { kind: 'publish'; pkg: number; blobs: number[]; scanNow: boolean }
  | { kind: 'scan' }
  | { kind: 'promote'; pick: number; stage: 'staging' | 'prod' }
  | { kind: 'lease'; pick: number }
  | { kind: 'release'; pick: number }
  | { kind: 'gc' }
  | { kind: 'advance'; hours: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('publish' as const),
      pkg: fc.nat(1),
      blobs: fc.array(fc.nat(5), { minLength: 1, maxLength: 3 }),
      scanNow: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'scan' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('promote' as const),
      pick: fc.nat(),
      stage: fc.constantFrom('staging' as const, 'prod' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lease' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'gc' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), hours: fc.constantFrom(1, 6, 30, 200) }),
  },
);

const blobContent = (n: number) => Buffer.from(`shared blob ${n} `.repeat(50));

/**
 * Random interleavings of publish, scan, promote, lease, GC and the clock moving. After every step:
 * (1) every available version's bytes hash to their digests, and nothing else is served;
 * (2) no blob of a version still in the index, or of an active lease, has lost its bytes;
 * (3) a committed version never changes; and nothing protected is ever tombstoned.
 */
export function describeLifecycleProperties(
  name: string,
  factory: () => Promise<LifecycleBackend>,
  numRuns: number,
): void {
  describe(`lifecycle invariants: ${name}`, () => {
    it('hold after every step of random interleavings', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 30 }), async (steps) => {
          const b = await factory();
          try {
            await runSteps(b, steps);
          } finally {
            await b.close();
          }
        }),
        { numRuns },
      );
    });
  });
}

interface Committed {
  readonly pkg: string;
  readonly version: string;
  readonly files: string;
}

async function runSteps(b: LifecycleBackend, steps: readonly Step[]): Promise<void> {
  const { deps } = b;
  await putNamespacePolicy(deps, admin, 'prop', {
    retention: { keepLast: 1, maxAgeDays: 1, keepPromotedPerStage: 1, graceHours: 1 },
  });
  const committed: Committed[] = [];
  const unscanned: string[] = [];
  const leases: { leaseId: string; at: number }[] = [];
  let n = 0;
  for (const s of steps) {
    switch (s.kind) {
      case 'publish': {
        const files = [...new Set(s.blobs)].map((blob, i) => ({ name: `f${i}`, data: blobContent(blob) }));
        const version = `${++n}`;
        const pkg = `p${s.pkg}`;
        const created = await createUpload(deps, admin, {
          namespace: 'prop',
          package: pkg,
          version,
          metadata: { step: String(n) },
          files: files.map((f) => ({
            name: f.name,
            size: f.data.length,
            sha256: sha256(f.data),
            mediaType: 'application/octet-stream',
          })),
        });
        for (const [i, ins] of created.files.entries())
          if (ins.action === 'upload') await b.upload(ins, files[i]!.data);
        const session = (await deps.index.getSession(created.uploadId))!;
        const keys = session.files.flatMap((f) => (f.stagingKey ? [f.stagingKey] : []));
        try {
          const v = await commitUpload(deps, admin, { uploadId: created.uploadId });
          committed.push({
            pkg,
            version,
            files: JSON.stringify(v.files.map((f) => [f.name, f.sha256, f.size])),
          });
        } catch (error) {
          // Losing a race with GC is allowed: the publisher is told to upload again. Nothing else is.
          if ((error as { details?: { reason?: string } }).details?.reason !== 'blobGone') throw error;
        }
        if (s.scanNow) for (const k of keys) await scanStagedObject(deps, k);
        else unscanned.push(...keys);
        break;
      }
      case 'scan':
        for (const k of unscanned.splice(0)) await scanStagedObject(deps, k);
        break;
      case 'promote': {
        const c = committed[s.pick % Math.max(1, committed.length)];
        if (c)
          await promoteVersion(deps, admin, {
            namespace: 'prop',
            package: c.pkg,
            version: c.version,
            stage: s.stage,
          }).catch(expectRefusal);
        break;
      }
      case 'lease': {
        const c = committed[s.pick % Math.max(1, committed.length)];
        if (!c) break;
        const got = await acquireLease(deps, admin, {
          namespace: 'prop',
          package: c.pkg,
          version: c.version,
          holder: 'prop',
          ttlSeconds: 86_400,
        }).catch(expectRefusal);
        if (got) leases.push({ leaseId: got.leaseId, at: b.clock.now().getTime() });
        break;
      }
      case 'release': {
        const l = leases.splice(s.pick % Math.max(1, leases.length), 1)[0];
        if (l) await releaseLease(deps, admin, l.leaseId).catch(expectRefusal);
        break;
      }
      case 'gc':
        await runGarbageCollection(deps, admin, { maxActions: 10_000 });
        break;
      case 'advance':
        b.clock.advance(s.hours * 3600);
        break;
    }
    await checkInvariants(b, committed);
  }
}

/** Promoting or leasing a version that is pending, tombstoned or gone is refused with a 4xx. */
function expectRefusal(error: unknown): undefined {
  if (!['NotPromotable', 'NotFound', 'Conflict'].includes((error as { code?: string }).code ?? ''))
    throw error;
  return undefined;
}

async function checkInvariants(b: LifecycleBackend, committed: readonly Committed[]): Promise<void> {
  const { deps } = b;
  for (const c of committed) {
    const ref = { namespace: 'prop', package: c.pkg, version: c.version };
    const v = await getVersion(deps, admin, ref).catch((e) => {
      if ((e as { code?: string }).code === 'NotFound') return null;
      throw e;
    });
    if (!v) continue; // deleted by GC after its tombstone's grace
    const files = JSON.stringify(v.files.map((f) => [f.name, f.sha256, f.size]));
    if (files !== c.files) throw new Error(`invariant 3: ${c.version} changed from ${c.files} to ${files}`);
    if (v.state === 'deleting' && (v.stages.length > 0 || v.leases.length > 0)) {
      throw new Error(
        `protected version ${c.version} was tombstoned (stages ${v.stages}, leases ${v.leases.length})`,
      );
    }
    for (const f of v.files) {
      if (f.state !== 'available') continue;
      const bytes = await b.readBlob(f.sha256);
      if (!bytes || sha256(bytes) !== f.sha256)
        throw new Error(`invariant 1/2: ${c.version}/${f.name} lost its bytes`);
    }
    if (v.state !== 'available') {
      const served = await resolveDownload(deps, admin, { ...ref, file: v.files[0]!.name }).then(
        () => true,
        () => false,
      );
      if (served) throw new Error(`invariant 1: ${v.state} version ${c.version} was served`);
    }
  }
}
