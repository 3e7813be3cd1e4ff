import { describe, expect, it } from 'vitest';
import type { GcReport } from '../../functions/core/gc.ts';
import { newId } from '../../functions/core/ids.ts';
import type { AuditEvent } from '../../functions/core/model.ts';
import type { Index } from '../../functions/ports.ts';
import { gcRun } from '../support/gcRuns.ts';
import { TestClock } from '../support/testClock.ts';
import { coreOn, freshResources, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const PACKAGES = 5;
const VERSIONS_PER_PACKAGE = 11;
const BUDGET_MS = 400;
const DAY_S = 86_400;

const audit = (at: Date): AuditEvent => ({
  at: at.toISOString(),
  actor: 'seed',
  action: 'upload.commit',
  namespace: 'scale',
  target: 'seed',
  requestId: 'seed',
});

/** Commits through the index (its own transactions), 60 days ago, one blob per version. */
async function seed(index: Index, then: Date): Promise<void> {
  for (let p = 0; p < PACKAGES; p++) {
    for (let v = 0; v < VERSIONS_PER_PACKAGE; v++) {
      const at = new Date(then.getTime() + v * 60_000);
      const uploadId = newId(at);
      const file = { name: 'app.bin', sha256: (p * 100 + v).toString(16).padStart(64, '0'), size: 32 };
      const session = {
        uploadId,
        namespace: 'scale',
        package: `p${p}`,
        version: `1.0.${v}`,
        state: 'open' as const,
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + 3_600_000).toISOString(),
        createdBy: 'seed',
        metadata: {},
        files: [{ ...file, mediaType: 'application/octet-stream', action: 'upload' as const }],
      };
      await index.createSession(session, audit(at));
      await index.commitSession(
        {
          uploadId,
          sessionRevision: 0,
          now: at,
          availableBlobs: [],
          version: {
            ...session,
            state: 'live',
            uploadId,
            files: [{ ...file, mediaType: 'application/octet-stream' }],
          },
        },
        audit(at),
      );
      await index.recordScan({
        uploadId,
        fileIndex: 0,
        sha256: file.sha256,
        size: file.size,
        verdict: 'verified',
        report: { status: 'clean', findings: [] },
        at,
      });
    }
  }
}

describe('GC in bounded runs on DynamoDB (moto)', () => {
  it('finishes over repeated short runs that resume from the saved position, surviving a killed run', async () => {
    const clients = motoClients();
    const resources = await freshResources(clients);
    const clock = new TestClock();
    const deps = coreOn(clients, resources, clock);
    await seed(deps.index, new Date(clock.now().getTime() - 60 * DAY_S * 1000));

    const reports: GcReport[] = [];
    let killed = 0;
    for (const advanceDays of [0, 2, 2]) {
      clock.advance(advanceDays * DAY_S);
      for (;;) {
        const kill = reports.length >= 1 && killed === 0;
        const run = await gcRun(deps, clock, BUDGET_MS, kill ? 2 : undefined);
        if (run.killed) {
          killed++;
          continue;
        }
        reports.push(run.report!);
        if (run.report!.stoppedBy === 'done') break;
      }
    }

    expect(killed).toBe(1);
    expect(reports.filter((r) => r.stoppedBy === 'budget').length).toBeGreaterThan(0);
    // The oldest version of each package is gone, the newest 10 are live, and so are their blobs.
    for (let p = 0; p < PACKAGES; p++) {
      const versions = await deps.index.listVersionSummaries('scale', `p${p}`);
      expect(versions.map((v) => v.version).sort()).toEqual(
        Array.from({ length: VERSIONS_PER_PACKAGE - 1 }, (_, v) => `1.0.${v + 1}`).sort(),
      );
      expect(versions.every((v) => v.state === 'live')).toBe(true);
    }
    const shas = Array.from({ length: PACKAGES * VERSIONS_PER_PACKAGE }, (_, i) =>
      (Math.floor(i / VERSIONS_PER_PACKAGE) * 100 + (i % VERSIONS_PER_PACKAGE))
        .toString(16)
        .padStart(64, '0'),
    );
    const blobs = await deps.index.getBlobs(shas);
    expect([...blobs.keys()].length).toBe(PACKAGES * (VERSIONS_PER_PACKAGE - 1));
    // Each deletion once: one audit event per deleted version and blob.
    const events = (await deps.index.listAudit({}, 1000)).items;
    for (const action of ['gc.tombstoneVersion', 'gc.deleteVersion', 'gc.deleteBlob']) {
      const targets = events.filter((e) => e.action === action).map((e) => e.target);
      expect(targets.length).toBe(PACKAGES);
      expect(new Set(targets).size).toBe(PACKAGES);
    }
    expect(await deps.index.getGcPosition()).toBeNull();
    console.log(`GC on moto: ${reports.length + killed} runs (${killed} killed) of ${BUDGET_MS} ms budget`);
  }, 600_000);
});
