import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Index } from '../../functions/ports.ts';
import { audit, session, versionOf } from '../support/fixtures.ts';
import type { IndexUnderTest } from './indexContract.ts';

const HOUR = 3_600_000;

/**
 * The lifecycle half of the Index contract: the conditions that keep GC from deleting what a
 * promotion, a lease, a session or a racing commit still needs. Every backend passes it unchanged.
 */
export function describeLifecycleIndexContract(name: string, factory: () => Promise<IndexUnderTest>): void {
  describe(`LifecycleIndex contract: ${name}`, () => {
    let t: IndexUnderTest;
    let index: Index;
    beforeEach(async () => {
      t = await factory();
      index = t.index;
    });
    afterEach(async () => t.close());

    const committed = async (overrides: Parameters<typeof session>[0] = {}) => {
      const s = session(overrides);
      await index.createSession(s, audit());
      const stored = await index.getSession(s.uploadId);
      await index.commitSession(
        {
          uploadId: s.uploadId,
          sessionRevision: stored!.revision,
          now: new Date(),
          version: versionOf(s),
          availableBlobs: [],
        },
        audit(),
      );
      return s;
    };
    const ref = (s: { namespace: string; package: string; version: string }) => ({
      namespace: s.namespace,
      package: s.package,
      version: s.version,
    });
    const promote = (s: { namespace: string; package: string; version: string }, stage: string, extra = {}) =>
      index.promote(
        { ...ref(s), stage, now: new Date(), by: 'tester', immutable: false, ...extra },
        audit('promote'),
      );

    it('lists retention candidates: live, older than the cutoff, past the newest keepLast', async () => {
      const day = 24 * HOUR;
      const now = Date.now();
      const at = async (version: string, daysAgo: number, pkg = 'pkg') => {
        const s = session({ version, package: pkg });
        await index.createSession(s, audit());
        const stored = await index.getSession(s.uploadId);
        const when = new Date(now - daysAgo * day);
        const v = versionOf(s, when);
        await index.commitSession(
          {
            uploadId: s.uploadId,
            sessionRevision: stored!.revision,
            now: when,
            version: v,
            availableBlobs: [],
          },
          audit(),
        );
        return v;
      };
      // Oldest first: 1 (40 days), 2 (30), 3 (20), 4 (10), 5 (1); another package alongside.
      const v1 = await at('1', 40);
      await at('2', 30);
      const v3 = await at('3', 20);
      await at('4', 10);
      await at('5', 1);
      await at('1', 50, 'other');
      await index.tombstoneVersion(ref(v3), 'test', new Date(), audit('gc.tombstoneVersion'));
      const cutoff = (days: number) => new Date(now - days * day);
      const names = async (keepLast: number, days: number) =>
        (await index.listRetentionCandidates('ns', 'pkg', keepLast, cutoff(days))).map((v) => v.version);

      // 3 is tombstoned (not live, and not counted among the newest).
      expect(await names(2, 15)).toEqual(['2', '1']);
      expect(await names(2, 35)).toEqual(['1']);
      expect(await names(3, 0)).toEqual(['1']);
      expect(await names(4, 0)).toEqual([]);
      expect(await names(0, 25)).toEqual(['2', '1']);
      expect(await names(10, 0)).toEqual([]);
      const [first] = await index.listRetentionCandidates('ns', 'pkg', 3, cutoff(0));
      expect(first).toMatchObject({ version: '1', state: 'live', createdAt: v1.createdAt });
      expect(first!.sha256s).toEqual(v1.files.map((f) => f.sha256));
    });

    it('moves a stage pointer and keeps its history newest first', async () => {
      const a = await committed({ version: '1' });
      const b = await committed({ version: '2' });
      expect(await promote(a, 'prod')).toEqual({ previousVersion: null });
      expect(await promote(b, 'prod')).toEqual({ previousVersion: '1' });
      const view = await index.getStage('ns', 'pkg', 'prod', 10);
      expect(view).toMatchObject({
        stage: 'prod',
        version: '2',
        history: [{ version: '2', previousVersion: '1' }, { version: '1' }],
      });
      const stages = await index.getPackageStages('ns', 'pkg', 5);
      expect(stages.pointers.get('prod')).toBe('2');
      expect(stages.promoted.get('prod')).toEqual(['2', '1']);
    });

    it('refuses an order violation, a moved immutable stage and a missing version', async () => {
      const a = await committed({ version: '1' });
      const b = await committed({ version: '2' });
      await expect(promote(a, 'prod', { requirePriorStage: 'staging' })).rejects.toMatchObject({
        code: 'StageOrderViolation',
      });
      await promote(a, 'staging');
      await promote(a, 'prod', { requirePriorStage: 'staging' });
      await promote(a, 'release', { immutable: true });
      await expect(promote(b, 'release', { immutable: true })).rejects.toMatchObject({
        code: 'StageImmutable',
      });
      await expect(promote({ ...a, version: '9' }, 'prod')).rejects.toMatchObject({ code: 'NotFound' });
    });

    it('never tombstones a version a stage names or an active lease holds', async () => {
      const staged = await committed({ version: '1' });
      const leased = await committed({ version: '2' });
      const free = await committed({ version: '3' });
      await promote(staged, 'prod');
      const now = new Date();
      await index.acquireLease(
        {
          leaseId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
          ...ref(leased),
          holder: 'deploy',
          createdAt: now.toISOString(),
          createdBy: 't',
          expiresAt: new Date(now.getTime() + HOUR).toISOString(),
        },
        audit('lease'),
      );
      expect(await index.tombstoneVersion(ref(staged), 'test', now, audit())).toBe(false);
      expect(await index.tombstoneVersion(ref(leased), 'test', now, audit())).toBe(false);
      expect(await index.tombstoneVersion(ref(free), 'test', now, audit())).toBe(true);
      expect(
        await index.tombstoneVersion(ref(leased), 'test', new Date(now.getTime() + 2 * HOUR), audit()),
      ).toBe(true);
      await expect(promote(free, 'prod')).rejects.toMatchObject({ code: 'NotPromotable' });
    });

    it('deletes a tombstoned version only after the cutoff, dropping its blob references', async () => {
      const s = await committed({ version: '1' });
      const t0 = new Date();
      expect(await index.tombstoneVersion(ref(s), 'test', t0, audit())).toBe(true);
      expect(await index.deleteVersion(ref(s), new Date(t0.getTime() - 1), t0, audit())).toBe(false);
      const later = new Date(t0.getTime() + 2 * HOUR);
      expect(await index.deleteVersion(ref(s), new Date(later.getTime() - HOUR), later, audit())).toBe(true);
      expect(await index.getVersion('ns', 'pkg', '1')).toBeNull();
      const sha = s.files[0]!.sha256;
      expect((await index.getBlobs([sha])).get(sha)).toMatchObject({ refcount: 0 });
      expect(await index.listDeletableBlobs(later, 10)).toEqual([sha]);
    });

    it('restores a tombstoned version and refuses to restore a live one', async () => {
      const s = await committed({ version: '1' });
      await expect(index.restoreVersion(ref(s), audit())).rejects.toMatchObject({ code: 'NotFound' });
      await index.tombstoneVersion(ref(s), 'test', new Date(), audit());
      await index.restoreVersion(ref(s), audit());
      expect((await index.getVersion('ns', 'pkg', '1'))!.state).toBe('live');
    });

    it('keeps a blob a session is about to store away from GC, and makes a racing commit upload again', async () => {
      const s = session({ version: '1' });
      const sha = s.files[0]!.sha256;
      await index.createSession(s, audit());
      await index.pinBlob(sha, s.files[0]!.size, new Date(s.expiresAt));
      const justAfterExpiry = new Date(Date.parse(s.expiresAt) + 1000);
      expect(await index.markBlobsDeleting([sha], new Date(Date.now()))).toEqual([]);
      expect(await index.markBlobsDeleting([sha], justAfterExpiry)).toEqual([sha]);
      await expect(index.pinBlob(sha, 1, new Date())).rejects.toMatchObject({ code: 'Conflict' });
      const stored = await index.getSession(s.uploadId);
      const commit = index.commitSession(
        {
          uploadId: s.uploadId,
          sessionRevision: stored!.revision,
          now: new Date(),
          version: versionOf(s),
          availableBlobs: [sha],
        },
        audit(),
      );
      await expect(commit).rejects.toMatchObject({ code: 'Conflict' });
      // Until it is forgotten, the mark is found again: a run that stopped here is finished later.
      expect(await index.listDeletingBlobs(10)).toEqual([sha]);
      await index.forgetBlobs([sha], () => audit('gc.deleteBlob'));
      expect((await index.getBlobs([sha])).size).toBe(0);
      expect(await index.listDeletingBlobs(10)).toEqual([]);
    });

    it('lets one holder at a time take the GC lock, until it is released or expires', async () => {
      const now = new Date();
      const until = new Date(now.getTime() + HOUR);
      expect(await index.acquireGcLock('run-a', now, until)).toBe(true);
      expect(await index.acquireGcLock('run-b', now, until)).toBe(false);
      expect(await index.acquireGcLock('run-a', now, new Date(until.getTime() + HOUR))).toBe(true);
      await index.releaseGcLock('run-b'); // not its lock: nothing happens
      expect(await index.acquireGcLock('run-b', now, until)).toBe(false);
      await index.releaseGcLock('run-a');
      expect(await index.acquireGcLock('run-b', now, until)).toBe(true);
      // Expired: a killed run's lock is taken over once its time is up.
      expect(
        await index.acquireGcLock('run-c', new Date(until.getTime() + 1), new Date(until.getTime() + HOUR)),
      ).toBe(true);
      await index.releaseGcLock(null);
      expect(await index.acquireGcLock('run-d', now, until)).toBe(true);
    });

    it('counts the namespaces whose versions reference a blob, and forgets one when its last version goes', async () => {
      const a = await committed({ namespace: 'alpha' });
      const sha = a.files[0]!.sha256;
      expect(await index.referencedBlobs([sha], ['alpha'])).toEqual(new Set([sha]));
      expect(await index.referencedBlobs([sha], ['beta'])).toEqual(new Set());
      expect(await index.referencedBlobs([sha], '*')).toEqual(new Set([sha]));
      expect(await index.referencedBlobs([sha], [])).toEqual(new Set());
      expect(await index.tombstoneVersion(ref(a), 'test', new Date(), audit())).toBe(true);
      expect(await index.deleteVersion(ref(a), new Date(Date.now() + HOUR), new Date(), audit())).toBe(true);
      expect(await index.referencedBlobs([sha], ['alpha'])).toEqual(new Set());
    });

    it('expires open sessions past their expiry only', async () => {
      const s = session({ expiresAt: new Date(Date.now() - 1000).toISOString() });
      const fresh = session();
      await index.createSession(s, audit());
      await index.createSession(fresh, audit());
      const expired = await index.listExpiredSessions(new Date(), 10);
      expect(expired.map((e) => e.uploadId)).toEqual([s.uploadId]);
      expect(await index.expireSession(s.uploadId, new Date(), audit())).toBe(true);
      expect(await index.expireSession(fresh.uploadId, new Date(), audit())).toBe(false);
      expect((await index.getSession(s.uploadId))!.state).toBe('aborted');
    });

    it('renews and releases leases, and refuses to renew an expired one', async () => {
      const s = await committed({ version: '1' });
      const now = new Date();
      const lease = {
        leaseId: '01ARZ3NDEKTSV4RRFFQ69G5FAW',
        ...ref(s),
        holder: 'h',
        createdAt: now.toISOString(),
        createdBy: 't',
        expiresAt: new Date(now.getTime() + HOUR).toISOString(),
      };
      await index.acquireLease(lease, audit());
      expect(await index.activeLeases('ns', 'pkg', now)).toHaveLength(1);
      const renewed = await index.renewLease(lease.leaseId, new Date(now.getTime() + 2 * HOUR), now, audit());
      expect(renewed.expiresAt).toBe(new Date(now.getTime() + 2 * HOUR).toISOString());
      await expect(
        index.renewLease(lease.leaseId, new Date(), new Date(now.getTime() + 3 * HOUR), audit()),
      ).rejects.toMatchObject({ code: 'Conflict' });
      await index.releaseLease(lease.leaseId, audit());
      await expect(index.releaseLease(lease.leaseId, audit())).rejects.toMatchObject({ code: 'NotFound' });
      await expect(index.acquireLease({ ...lease, version: '9' }, audit())).rejects.toMatchObject({
        code: 'NotFound',
      });
    });

    it('stores policies, lists packages and pages the audit log oldest first', async () => {
      await committed({ version: '1' });
      await committed({ package: 'other', version: '1' });
      const policy = {
        enforceOrder: false,
        immutableStages: [],
        retention: { keepLast: 3, maxAgeDays: 7, keepPromotedPerStage: 2, graceHours: 12 },
      };
      await index.putPolicy('ns', policy, audit('policy.put'));
      expect(await index.getPolicy('ns')).toEqual(policy);
      expect(await index.getPolicy('none')).toBeNull();
      const first = await index.listPackages(1);
      const second = await index.listPackages(1, first.next);
      expect([...first.items, ...second.items].map((p) => p.package).sort()).toEqual(['other', 'pkg']);
      const summaries = await index.listVersionSummaries('ns', 'pkg');
      expect(summaries).toMatchObject([{ version: '1', state: 'live' }]);
      const page = await index.listAudit({ namespace: 'ns' }, 2);
      expect(page.items).toHaveLength(2);
      const rest = await index.listAudit({ namespace: 'ns' }, 100, page.next);
      expect(rest.items.at(-1)!.action).toBe('policy.put');
    });
  });
}
