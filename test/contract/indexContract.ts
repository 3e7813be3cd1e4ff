import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  UploadExpiredError,
  VersionExistsError,
} from '../../functions/core/errors.ts';
import type { ScanReport } from '../../functions/core/model.ts';
import type { Index, ScanOutcome } from '../../functions/ports.ts';
import { audit, session, sha256, versionOf } from '../support/fixtures.ts';

export interface IndexUnderTest {
  readonly index: Index;
  close(): Promise<void>;
}

/**
 * The Index port's contract: every backend's index must pass it unchanged. Each test gets a fresh,
 * empty index from `factory`.
 */
export function describeIndexContract(name: string, factory: () => Promise<IndexUnderTest>): void {
  describe(`Index contract: ${name}`, () => {
    let t: IndexUnderTest;
    let index: Index;
    beforeEach(async () => {
      t = await factory();
      index = t.index;
    });
    afterEach(async () => t.close());

    const commit = async (s: ReturnType<typeof session>, now = new Date()) => {
      const stored = await index.getSession(s.uploadId);
      await index.commitSession(
        {
          uploadId: s.uploadId,
          sessionRevision: stored!.revision,
          now,
          version: versionOf(s, now),
          availableBlobs: [],
        },
        audit('commit'),
      );
    };
    const scan = (
      s: ReturnType<typeof session>,
      verdict: ScanOutcome['verdict'],
      fileIndex = 0,
    ): ScanOutcome => ({
      uploadId: s.uploadId,
      fileIndex,
      sha256: s.files[fileIndex]!.sha256,
      size: s.files[fileIndex]!.size,
      verdict,
      report: { status: verdict === 'verified' ? 'clean' : 'infected', findings: [] },
      at: new Date(),
    });

    it('lists blobs whose report keeps SBOM components and replaces only their vulnerabilities', async () => {
      const withSbom = session();
      const without = session();
      for (const s of [withSbom, without]) await index.createSession(s, audit());
      const components = ['pkg:npm/lodash@4.17.20'];
      await index.recordScan({
        ...scan(withSbom, 'verified'),
        report: { status: 'clean', findings: [], scannedAt: '2026-01-01T00:00:00.000Z', components },
      });
      await index.recordScan(scan(without, 'verified'));
      const sha = withSbom.files[0]!.sha256;

      const listed = await index.listBlobsWithComponents();
      expect(listed.map((b) => b.sha256)).toEqual([sha]);
      expect(listed[0]!.scan?.components).toEqual(components);

      const vulnerabilities = {
        database: 'osv test',
        matchedAt: '2026-01-02T00:00:00.000Z',
        components: 1,
        findings: [
          {
            id: 'GHSA-35jh-r3h4-6jhm',
            aliases: ['CVE-2021-23337'],
            severity: 'high' as const,
            component: { purl: components[0]!, ecosystem: 'npm', name: 'lodash', version: '4.17.20' },
            fixed: '4.17.21',
          },
        ],
      };
      expect(await index.setBlobVulnerabilities(sha, vulnerabilities)).toBe(true);
      const blob = (await index.getBlobs([sha])).get(sha)!;
      expect(blob).toMatchObject({ state: 'available', refcount: 0 });
      expect(blob.scan).toEqual({
        status: 'clean',
        findings: [],
        scannedAt: '2026-01-01T00:00:00.000Z',
        components,
        vulnerabilities,
      });
      expect(await index.setBlobVulnerabilities('0'.repeat(64), vulnerabilities)).toBe(false);
    });

    it('commits and reads a 1,000-file version whose names are 512 characters (defect: refused as manifestTooLarge on both backends, and a version item over 400 KB on DynamoDB)', async () => {
      const base = session({ version: 'long-names' });
      const files = Array.from({ length: 1000 }, (_, i) => {
        const blob = i % 50;
        // 200 + 1 + 200 + 1 + 110: three segments, 512 characters in all.
        const name = `${'a'.repeat(200)}/${'b'.repeat(200)}/file-${String(i).padStart(4, '0')}-${'c'.repeat(100)}`;
        return {
          name,
          size: 100 + blob,
          sha256: sha256(`long-names-blob-${blob}`),
          mediaType: 'application/vnd.example.long-names+octet-stream',
          action: 'upload' as const,
          stagingKey: `staging/${base.uploadId}/${i}`,
        };
      });
      const s = { ...base, files };
      expect(files.every((f) => f.name.length === 512)).toBe(true);
      await index.createSession(s, audit());
      await commit(s);
      const names = files.map((f) => f.name);

      const stored = await index.getSession(s.uploadId);
      const version = await index.getVersion(s.namespace, s.package, s.version);
      const listed = await index.listVersions(s.namespace, s.package, 10);
      const summaries = await index.listVersionSummaries(s.namespace, s.package);
      const found = await index.searchByBlob(files[700]!.sha256, '*', 10);
      const candidates = await index.listRetentionCandidates(
        s.namespace,
        s.package,
        0,
        new Date(Date.now() + 60_000),
      );

      expect(stored!.files.map((f) => f.name)).toEqual(names);
      expect(version).toMatchObject({ uploadId: s.uploadId, state: 'live' });
      expect(version!.files.map((f) => f.name)).toEqual(names);
      expect(version!.files.map((f) => f.mediaType)).toEqual(files.map((f) => f.mediaType));
      expect(listed.items.map((v) => v.files.map((f) => f.name))).toEqual([names]);
      expect(summaries.map((v) => v.sha256s)).toEqual([files.map((f) => f.sha256)]);
      expect(found.items.map((v) => v.files.length)).toEqual([1000]);
      expect(candidates.map((v) => v.sha256s)).toEqual([files.map((f) => f.sha256)]);
      const blobs = await index.getBlobs([files[0]!.sha256]);
      expect(blobs.get(files[0]!.sha256)).toMatchObject({ refcount: 20 });

      // A scan verdict lands on its own file, deep in the list.
      await index.recordScan(scan(s, 'rejected', 700));
      const scanned = await index.getVersion(s.namespace, s.package, s.version);
      expect(scanned!.files[700]!.rejection).toMatchObject({ status: 'infected' });
      expect(scanned!.files.filter((f) => f.rejection)).toHaveLength(1);

      // Deleted whole: the version, and every reference it held.
      const ref = { namespace: s.namespace, package: s.package, version: s.version };
      const now = new Date();
      expect(await index.tombstoneVersion(ref, 'test', now, audit())).toBe(true);
      expect(await index.deleteVersion(ref, new Date(now.getTime() + 1000), now, audit())).toBe(true);
      expect(await index.getVersion(s.namespace, s.package, s.version)).toBeNull();
      const released = await index.getBlobs([files[0]!.sha256]);
      expect(released.get(files[0]!.sha256)).toMatchObject({ refcount: 0 });
    }, 180_000);

    it('lifts the unverified mark of one file of a 100-file version when its verdict lands, and only its', async () => {
      const base = session({ version: 'unverified-many' });
      const files = Array.from({ length: 100 }, (_, i) => ({
        name: `dir-${i % 7}/file-${i}.bin`,
        size: 10 + i,
        sha256: sha256(`unverified-many-${i}`),
        mediaType: 'application/octet-stream',
        action: 'upload' as const,
        stagingKey: `staging/${base.uploadId}/${i}`,
      }));
      const s = { ...base, files };
      await index.createSession(s, audit());
      const stored = await index.getSession(s.uploadId);
      const now = new Date();
      const version = versionOf(s, now);
      // Committed before the scans (the same content was staged elsewhere): every file awaits a verdict.
      const pending = { ...version, files: version.files.map((f) => ({ ...f, unverified: true })) };
      await index.commitSession(
        {
          uploadId: s.uploadId,
          sessionRevision: stored!.revision,
          now,
          version: pending,
          availableBlobs: [],
        },
        audit('commit'),
      );

      await index.recordScan(scan(s, 'verified', 90));

      const read = await index.getVersion(s.namespace, s.package, s.version);
      expect(read!.files.map((f, i) => (f.unverified ? i : -1)).filter((i) => i >= 0)).toEqual(
        files.map((_, i) => i).filter((i) => i !== 90),
      );
    });

    it('stores a session and reads it back open at revision 0', async () => {
      const s = session();
      await index.createSession(s, audit());
      const stored = await index.getSession(s.uploadId);
      expect(stored).toMatchObject({ ...s, state: 'open' });
      expect(typeof stored!.revision).toBe('number');
    });

    it('answers null for an unknown session', async () => {
      expect(await index.getSession('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBeNull();
    });

    it('commits a session into a version with its files in order and a blob reference each', async () => {
      const s = session({ files: [...session().files, { ...session().files[0]!, name: 'b.bin' }] });
      await index.createSession(s, audit());
      await commit(s);
      const v = await index.getVersion(s.namespace, s.package, s.version);
      expect(v).toMatchObject({ uploadId: s.uploadId, state: 'live', metadata: s.metadata });
      expect(v!.files.map((f) => f.name)).toEqual(['a.bin', 'b.bin']);
      expect((await index.getSession(s.uploadId))!.state).toBe('committed');
      const blobs = await index.getBlobs(s.files.map((f) => f.sha256));
      expect(blobs.get(s.files[0]!.sha256)).toMatchObject({ state: 'pending', refcount: 1 });
      expect(blobs.get(s.files[1]!.sha256)).toMatchObject({ state: 'pending', refcount: 1 });
    });

    it('refuses a second session committing the same version with VersionExists', async () => {
      const first = session({ version: '1.0.0' });
      const second = session({ version: '1.0.0' });
      await index.createSession(first, audit());
      await index.createSession(second, audit());
      await commit(first);
      await expect(commit(second)).rejects.toBeInstanceOf(VersionExistsError);
      expect((await index.getVersion('ns', 'pkg', '1.0.0'))!.uploadId).toBe(first.uploadId);
      expect((await index.getSession(second.uploadId))!.state).toBe('open');
    });

    it('lets exactly one of two concurrent commits of one version win', async () => {
      const sessions = [session({ version: '2.0.0' }), session({ version: '2.0.0' })];
      for (const s of sessions) await index.createSession(s, audit());
      const results = await Promise.allSettled(sessions.map((s) => commit(s)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(failed.reason).toBeInstanceOf(VersionExistsError);
    });

    it('refuses a commit against a stale session revision with a sessionChanged Conflict', async () => {
      const s = session();
      await index.createSession(s, audit());
      const stale = (await index.getSession(s.uploadId))!.revision;
      await index.recordScan(scan(s, 'verified'));
      const attempt = index.commitSession(
        {
          uploadId: s.uploadId,
          sessionRevision: stale,
          now: new Date(),
          version: versionOf(s),
          availableBlobs: [],
        },
        audit(),
      );
      await expect(attempt).rejects.toMatchObject({
        code: 'Conflict',
        details: { reason: 'sessionChanged' },
      });
      expect(await index.getVersion(s.namespace, s.package, s.version)).toBeNull();
    });

    it('refuses to commit an expired session', async () => {
      const s = session({ expiresAt: new Date(Date.now() - 1).toISOString() });
      await index.createSession(s, audit());
      await expect(commit(s)).rejects.toBeInstanceOf(UploadExpiredError);
      expect(await index.getVersion(s.namespace, s.package, s.version)).toBeNull();
    });

    it('aborts an open session once, refuses a committed one and does not know an unknown one', async () => {
      const open = session();
      const done = session();
      await index.createSession(open, audit());
      await index.createSession(done, audit());
      await commit(done);
      expect((await index.abortSession(open.uploadId, audit('abort'))).state).toBe('aborted');
      expect((await index.abortSession(open.uploadId, audit('abort'))).state).toBe('aborted');
      await expect(index.abortSession(done.uploadId, audit())).rejects.toBeInstanceOf(ConflictError);
      await expect(index.abortSession('01ARZ3NDEKTSV4RRFFQ69G5FAV', audit())).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(commit(open)).rejects.toMatchObject({ code: 'Conflict' });
    });

    it('lists versions newest commit first at every page size, each exactly once, even when commits share a timestamp', async () => {
      const sameInstant = new Date('2026-01-01T00:00:00Z');
      const committed: { version: string; at: number }[] = [];
      for (let i = 0; i < 23; i++) {
        const s = session({ version: `1.${i}.0` });
        await index.createSession(s, audit());
        // Half the commits share one instant; the others carry clocks a little behind or ahead of it.
        const at = i % 2 === 0 ? sameInstant.getTime() : sameInstant.getTime() + (i % 4 === 1 ? -i : i);
        await commit(s, new Date(at));
        committed.push({ version: s.version, at });
      }
      // By commit time, newest first; commits of one instant in reverse commit order.
      const expected = committed
        .map((c, order) => ({ ...c, order }))
        .sort((a, b) => b.at - a.at || b.order - a.order)
        .map((c) => c.version);

      for (const limit of [1, 4, 10, 23, 100]) {
        const seen: string[] = [];
        let after: string | undefined;
        do {
          const page = await index.listVersions('ns', 'pkg', limit, after);
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...page.items.map((v) => v.version));
          after = page.next;
        } while (after !== undefined);
        expect(seen).toEqual(expected);
      }
      expect((await index.listVersions('ns', 'other', 10)).items).toEqual([]);
    });

    it('records a verified scan: the blob turns available, and a redelivery changes nothing', async () => {
      const s = session();
      await index.createSession(s, audit());
      await index.recordScan(scan(s, 'verified'));
      const once = await index.getSession(s.uploadId);
      await index.recordScan(scan(s, 'verified'));
      expect((await index.getSession(s.uploadId))!.revision).toBe(once!.revision);
      expect(once!.files[0]!.verdict).toBe('verified');
      expect((await index.getBlobs([s.files[0]!.sha256])).get(s.files[0]!.sha256)).toMatchObject({
        state: 'available',
      });
    });

    it('reads one session file with its verdict, and counts the files still waiting for one', async () => {
      const base = session();
      const file = (n: number, action: 'upload' | 'exists') => ({
        ...base.files[0]!,
        name: `f${n}.bin`,
        sha256: String(n).repeat(64),
        action,
        ...(action === 'upload'
          ? { stagingKey: `staging/${base.uploadId}/${n}` }
          : { stagingKey: undefined }),
      });
      const s = session({
        uploadId: base.uploadId,
        files: [file(0, 'upload'), file(1, 'exists'), file(2, 'upload')],
      });
      await index.createSession(s, audit());
      expect(await index.getSessionFile(s.uploadId, 2)).toMatchObject({
        session: { uploadId: s.uploadId, state: 'open', revision: 0, namespace: 'ns' },
        file: { name: 'f2.bin', action: 'upload' },
      });
      expect((await index.getSessionFile(s.uploadId, 3))?.file).toBeUndefined();
      expect(await index.getSessionFile('no-such-upload', 0)).toBeNull();

      expect(await index.recordScan(scan(s, 'verified', 2))).toEqual({
        recorded: true,
        sessionState: 'open',
        awaitingScan: 1,
      });
      expect(await index.recordScan(scan(s, 'verified', 2))).toEqual({ recorded: false });
      await commit(s);
      expect(await index.recordScan(scan(s, 'rejected', 0))).toEqual({
        recorded: true,
        sessionState: 'committed',
        awaitingScan: 0,
      });
      const read = await index.getSessionFile(s.uploadId, 0);
      expect(read?.file).toMatchObject({ verdict: 'rejected', rejection: { status: 'infected' } });
      expect((await index.getSessionFile(s.uploadId, 2))?.file?.verdict).toBe('verified');
    });

    it('records a rejected upload on the committed version file without touching the blob', async () => {
      const s = session();
      await index.createSession(s, audit());
      await commit(s);
      await index.recordScan(scan(s, 'rejected'));
      const v = await index.getVersion(s.namespace, s.package, s.version);
      expect(v!.files[0]!.rejection).toMatchObject({ status: 'infected' });
      expect((await index.getBlobs([s.files[0]!.sha256])).get(s.files[0]!.sha256)!.state).toBe('pending');
    });

    const engineDown = (message = 'clamd at /run/clamd.sock is unreachable: ENOENT'): ScanReport => ({
      status: 'error',
      findings: [],
      scannedAt: new Date().toISOString(),
      error: { engine: 'clamav', message },
    });

    it('records a failed scan attempt on the session and version file, leaving the blob pending, until the verdict replaces it', async () => {
      const s = session();
      await index.createSession(s, audit());
      await commit(s);
      const sha = s.files[0]!.sha256;

      expect(await index.recordScanError(s.uploadId, 0, engineDown())).toBe(true);

      const failed = await index.getSession(s.uploadId);
      expect(failed!.files[0]!.scanError).toMatchObject({ status: 'error', error: { engine: 'clamav' } });
      expect(failed!.files[0]!.verdict).toBeUndefined();
      const pending = await index.getVersion(s.namespace, s.package, s.version);
      expect(pending!.files[0]!.scanError).toMatchObject({ status: 'error', error: { engine: 'clamav' } });
      expect((await index.getBlobs([sha])).get(sha)).toMatchObject({ state: 'pending' });
      expect((await index.getBlobs([sha])).get(sha)!.scan).toBeUndefined();
      // The same failure again rewrites nothing, so retries do not race commits.
      expect(await index.recordScanError(s.uploadId, 0, engineDown())).toBe(true);
      expect((await index.getSession(s.uploadId))!.revision).toBe(failed!.revision);

      await index.recordScan(scan(s, 'verified'));

      expect((await index.getSession(s.uploadId))!.files[0]!.scanError).toBeUndefined();
      const verified = await index.getVersion(s.namespace, s.package, s.version);
      expect(verified!.files[0]!.scanError).toBeUndefined();
      expect((await index.getBlobs([sha])).get(sha)).toMatchObject({
        state: 'available',
        scan: { status: 'clean' },
      });
    });

    it('records a failed scan attempt of an uncommitted upload on its session file only', async () => {
      const s = session();
      await index.createSession(s, audit());

      expect(await index.recordScanError(s.uploadId, 0, engineDown('osv database unreadable'))).toBe(true);

      expect((await index.getSession(s.uploadId))!.files[0]!.scanError!.error).toEqual({
        engine: 'clamav',
        message: 'osv database unreadable',
      });
      expect(await index.getVersion(s.namespace, s.package, s.version)).toBeNull();
      expect((await index.getBlobs([s.files[0]!.sha256])).size).toBe(0);
    });

    it('lets a rejection replace a failed attempt, and never records a failed attempt over a verdict', async () => {
      const s = session();
      await index.createSession(s, audit());
      await commit(s);
      await index.recordScanError(s.uploadId, 0, engineDown());

      await index.recordScan(scan(s, 'rejected'));

      expect(await index.recordScanError(s.uploadId, 0, engineDown('later'))).toBe(false);
      expect(await index.recordScanError('no-such-upload', 0, engineDown())).toBe(false);
      const file = (await index.getVersion(s.namespace, s.package, s.version))!.files[0]!;
      expect(file.rejection).toMatchObject({ status: 'infected' });
      expect(file.scanError).toBeUndefined();
      expect((await index.getSession(s.uploadId))!.files[0]!.scanError).toBeUndefined();
    });

    it('quarantines the blob itself when its content is infected', async () => {
      const s = session();
      await index.createSession(s, audit());
      await index.recordScan(scan(s, 'infected'));
      expect((await index.getBlobs([s.files[0]!.sha256])).get(s.files[0]!.sha256)!.state).toBe('quarantined');
      expect((await index.getSession(s.uploadId))!.files[0]!.verdict).toBe('rejected');
    });

    it('keeps a verified blob available when another version references it', async () => {
      const s = session();
      await index.createSession(s, audit());
      await index.recordScan(scan(s, 'verified'));
      await commit(s);
      const again = session({
        files: s.files.map((f) => ({ ...f, action: 'exists' as const, stagingKey: undefined })),
      });
      await index.createSession(again, audit());
      await commit(again);
      expect((await index.getBlobs([s.files[0]!.sha256])).get(s.files[0]!.sha256)).toMatchObject({
        state: 'available',
        refcount: 2,
      });
    });

    it('stores a version attestation once per id and lists them oldest first', async () => {
      const s = session();
      await index.createSession(s, audit());
      await commit(s);
      const ref = { namespace: s.namespace, package: s.package, version: s.version };
      const envelope = {
        payloadType: 'application/vnd.in-toto+json',
        payload: 'e30=',
        signatures: [{ keyid: 'k1', sig: 'AA==' }],
      };
      const provenance = {
        id: 'provenance',
        kind: 'provenance' as const,
        predicateType: 'https://slsa.dev/provenance/v1',
        signedBy: 'k1',
        verified: true,
        envelope,
        createdAt: '2026-11-30T00:00:00.000Z',
        createdBy: 'store',
      };
      expect(await index.putAttestation(ref, provenance, audit('attestation.provenance'))).toBe(true);
      expect(await index.putAttestation(ref, { ...provenance, signedBy: 'k2' }, audit())).toBe(false);
      const sbom = {
        ...provenance,
        id: '01JSBOM0000000000000000000',
        kind: 'publisher' as const,
        predicateType: 'https://cyclonedx.org/bom',
        createdAt: '2026-11-30T00:00:01.000Z',
      };
      expect(await index.putAttestation(ref, sbom, audit())).toBe(true);
      expect(await index.listAttestations(ref)).toEqual([provenance, sbom]);
      expect(await index.listAttestations({ ...ref, version: 'other' })).toEqual([]);
    });

    it('lists attested SBOMs and replaces only their vulnerabilities', async () => {
      const s = session();
      await index.createSession(s, audit());
      await commit(s);
      const ref = { namespace: s.namespace, package: s.package, version: s.version };
      const attestation = {
        id: '01JSBOM0000000000000000001',
        kind: 'publisher' as const,
        predicateType: 'https://spdx.dev/Document',
        signedBy: '',
        verified: false,
        envelope: { payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [] },
        createdAt: '2026-11-30T00:00:02.000Z',
        createdBy: 'ci',
      };
      const sbom = { format: 'SPDX' as const, components: ['pkg:npm/lodash@4.17.20'] };
      await index.putAttestation(ref, { ...attestation, sbom }, audit());
      await index.putAttestation(
        ref,
        { ...attestation, id: '01JPLAIN000000000000000000', createdAt: '2026-11-30T00:00:03.000Z' },
        audit(),
      );

      expect(await index.listAttestedSboms()).toEqual([{ ref, id: attestation.id, sbom }]);

      const vulnerabilities = {
        database: 'osv sha256:new',
        matchedAt: '2026-11-30T01:00:00.000Z',
        components: 1,
        findings: [],
      };
      expect(await index.setAttestationVulnerabilities(ref, attestation.id, vulnerabilities)).toBe(true);
      expect(
        await index.setAttestationVulnerabilities(ref, '01JPLAIN000000000000000000', vulnerabilities),
      ).toBe(false);
      expect(
        await index.setAttestationVulnerabilities(ref, '01JNONE0000000000000000000', vulnerabilities),
      ).toBe(false);
      const [stored] = await index.listAttestations(ref);
      expect(stored).toEqual({ ...attestation, sbom: { ...sbom, vulnerabilities } });
      expect(await index.listAttestedSboms()).toEqual([
        { ref, id: attestation.id, sbom: { ...sbom, vulnerabilities } },
      ]);
    });

    it('finds live versions by an exact metadata value, newest first, page by page, once each', async () => {
      const published: string[] = [];
      for (let i = 0; i < 4; i++) {
        const s = session({ version: `m${i}`, metadata: { commit: i === 2 ? 'other' : '9f1c' } });
        await index.createSession(s, audit());
        await commit(s, new Date(Date.now() + i * 1000));
        published.push(s.version);
      }
      // A session that lost m0 to another: its entries must never answer.
      const loser = session({ version: 'm0', metadata: { commit: '9f1c' } });
      await index.createSession(loser, audit());
      await expect(commit(loser)).rejects.toBeInstanceOf(VersionExistsError);
      const elsewhere = session({ namespace: 'other', version: 'm9', metadata: { commit: '9f1c' } });
      await index.createSession(elsewhere, audit());
      await commit(elsewhere);

      const first = await index.searchByMetadata('ns', 'commit', '9f1c', 2);
      const second = await index.searchByMetadata('ns', 'commit', '9f1c', 2, first.next);

      expect(first.items.map((v) => v.version)).toEqual(['m3', 'm1']);
      expect(second.items.map((v) => v.version)).toEqual(['m0']);
      expect(second.next).toBeUndefined();
      expect((await index.searchByMetadata('ns', 'commit', '9f1', 10)).items).toEqual([]);
      const ref = { namespace: 'ns', package: 'pkg', version: 'm3' };
      expect(await index.tombstoneVersion(ref, 'test', new Date(), audit())).toBe(true);
      expect((await index.searchByMetadata('ns', 'commit', '9f1c', 10)).items.map((v) => v.version)).toEqual([
        'm1',
        'm0',
      ]);
    });

    it('finds the versions holding a blob, only in the namespaces asked, page by page', async () => {
      const shared = session({ version: 'b1' });
      const blob = shared.files[0]!;
      await index.createSession(shared, audit());
      await commit(shared);
      for (const [namespace, version] of [
        ['ns', 'b2'],
        ['other', 'b3'],
      ] as const) {
        const s = session({ namespace, version, files: [{ ...blob, name: 'dist/copy.bin' }] });
        await index.createSession(s, audit());
        await commit(s);
      }
      const unrelated = session({ version: 'b4' });
      await index.createSession(unrelated, audit());
      await commit(unrelated);

      const all = await index.searchByBlob(blob.sha256, '*', 10);
      const mine = await index.searchByBlob(blob.sha256, ['ns'], 1);
      const rest = await index.searchByBlob(blob.sha256, ['ns'], 1, mine.next);

      expect(all.items.map((v) => `${v.namespace}/${v.version}`)).toEqual(['ns/b1', 'ns/b2', 'other/b3']);
      expect([...mine.items, ...rest.items].map((v) => v.version)).toEqual(['b1', 'b2']);
      expect(rest.next).toBeUndefined();
      expect((await index.searchByBlob(blob.sha256, [], 10)).items).toEqual([]);
    });
  });
}
