import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VersionExistsError } from '../../functions/core/errors.ts';
import { DEFAULT_POLICY } from '../../functions/core/model.ts';
import type { Index, UploadSession } from '../../functions/ports.ts';
import { audit, session, versionOf } from '../support/fixtures.ts';
import type { IndexUnderTest } from './indexContract.ts';

const HOUR = 3_600_000;

/**
 * Deleting versions and finding namespaces and packages (issue 15): the conditions that keep a
 * deleted version unpromoted, unleased and its number taken, on every backend unchanged.
 */
export function describeCatalogIndexContract(name: string, factory: () => Promise<IndexUnderTest>): void {
  describe(`Catalog index contract: ${name}`, () => {
    let t: IndexUnderTest;
    let index: Index;
    beforeEach(async () => {
      t = await factory();
      index = t.index;
    });
    afterEach(async () => t.close());

    const commit = async (s: UploadSession) => {
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
    const committed = (overrides: Parameters<typeof session>[0] = {}) => commit(session(overrides));
    const ref = (s: { namespace: string; package: string; version: string }) => ({
      namespace: s.namespace,
      package: s.package,
      version: s.version,
    });
    const deletion = (at = new Date()) => ({ at: at.toISOString(), by: 'admin', reason: 'CVE' });
    const lease = (s: UploadSession, now: Date) => ({
      leaseId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      ...ref(s),
      holder: 'deploy',
      createdAt: now.toISOString(),
      createdBy: 't',
      expiresAt: new Date(now.getTime() + HOUR).toISOString(),
    });

    it('marks a version deleted only while no stage names it and no lease holds it', async () => {
      const staged = await committed({ version: '1' });
      const leased = await committed({ version: '2' });
      const free = await committed({ version: '3' });
      const now = new Date();
      await index.promote({ ...ref(staged), stage: 'prod', now, by: 't', immutable: false }, audit());
      await index.acquireLease(lease(leased, now), audit());

      expect(await index.markVersionDeleted(ref(staged), deletion(now), now, audit())).toBe(false);
      expect(await index.markVersionDeleted(ref(leased), deletion(now), now, audit())).toBe(false);
      expect(await index.markVersionDeleted(ref(free), deletion(now), now, audit('version.delete'))).toBe(
        true,
      );
      expect(await index.markVersionDeleted(ref(free), deletion(now), now, audit())).toBe(false);
      expect(
        await index.markVersionDeleted({ ...ref(free), version: '9' }, deletion(now), now, audit()),
      ).toBe(false);
      // Once the lease has expired, nothing protects it.
      const later = new Date(now.getTime() + 2 * HOUR);
      expect(await index.markVersionDeleted(ref(leased), deletion(later), later, audit())).toBe(true);

      expect(await index.getVersion('ns', 'pkg', '3')).toMatchObject({
        state: 'deleted',
        deletion: { at: now.toISOString(), by: 'admin', reason: 'CVE' },
      });
      expect((await index.getVersion('ns', 'pkg', '1'))?.state).toBe('live');
    });

    it('refuses to promote or lease a deleted version', async () => {
      const s = await committed({ version: '1' });
      const now = new Date();
      expect(await index.markVersionDeleted(ref(s), deletion(now), now, audit())).toBe(true);
      await expect(
        index.promote({ ...ref(s), stage: 'prod', now, by: 't', immutable: false }, audit()),
      ).rejects.toMatchObject({ code: 'NotPromotable' });
      await expect(index.acquireLease(lease(s, now), audit())).rejects.toMatchObject({ code: 'Conflict' });
      expect(await index.getStage('ns', 'pkg', 'prod', 10)).toBeNull();
      expect(await index.activeLeases('ns', 'pkg', now)).toEqual([]);
    });

    it('lists deleted versions only when asked', async () => {
      await committed({ version: '1' });
      const gone = await committed({ version: '2' });
      await committed({ version: '3' });
      const now = new Date();
      await index.markVersionDeleted(ref(gone), deletion(now), now, audit());
      const versions = async (options?: { includeDeleted?: boolean }) => {
        const first = await index.listVersions('ns', 'pkg', 1, undefined, options);
        const rest = await index.listVersions('ns', 'pkg', 10, first.next, options);
        return [...first.items, ...rest.items].map((v) => v.version);
      };
      expect(await versions()).toEqual(['3', '1']);
      expect(await versions({ includeDeleted: true })).toEqual(['3', '2', '1']);
    });

    it("drops a deleted version's files and references in GC's step, and keeps its number taken", async () => {
      const s = await committed({ namespace: 'alpha', version: '1' });
      const sha = s.files[0]!.sha256;
      const now = new Date();
      expect(await index.markVersionDeleted(ref(s), deletion(now), now, audit())).toBe(true);
      expect(await index.listTombstoned(now, 10)).toEqual([
        { ...ref(s), tombstonedAt: now.toISOString(), deleted: true },
      ]);
      expect(await index.referencedBlobs([sha], ['alpha'])).toEqual(new Set([sha]));

      expect(await index.deleteVersion(ref(s), now, now, audit('gc.deleteVersion'))).toBe(true);
      expect(await index.deleteVersion(ref(s), now, now, audit())).toBe(false);
      expect(await index.getVersion('alpha', 'pkg', '1')).toMatchObject({ state: 'deleted', files: [] });
      expect(await index.listTombstoned(new Date(now.getTime() + HOUR), 10)).toEqual([]);
      expect((await index.getBlobs([sha])).get(sha)).toMatchObject({ refcount: 0 });
      expect(await index.referencedBlobs([sha], ['alpha'])).toEqual(new Set());
      await expect(commit(session({ namespace: 'alpha', version: '1' }))).rejects.toBeInstanceOf(
        VersionExistsError,
      );
    });

    it("lists namespaces with versions or a policy, and a namespace's packages page by page", async () => {
      expect(await index.listNamespaces()).toEqual([]);
      for (const [namespace, pkg] of [
        ['a', 'p3'],
        ['a', 'p1'],
        ['a', 'p2'],
        ['a', 'p1'],
        ['a-b', 'q'],
        ['b', 'r'],
      ] as const)
        await committed({ namespace, package: pkg });
      await index.putPolicy('c', DEFAULT_POLICY, audit('policy.put'));
      expect(await index.listNamespaces()).toEqual(['a', 'a-b', 'b', 'c']);

      const first = await index.listNamespacePackages('a', 2);
      expect(first.items).toEqual(['p1', 'p2']);
      const rest = await index.listNamespacePackages('a', 2, first.next);
      expect(rest).toEqual({ items: ['p3'] });
      expect(await index.listNamespacePackages('a-b', 10)).toEqual({ items: ['q'] });
      expect(await index.listNamespacePackages('c', 10)).toEqual({ items: [] });
    });
  });
}
