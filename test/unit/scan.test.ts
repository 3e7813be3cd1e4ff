import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { abortUpload, commitUpload, createUpload } from '../../functions/core/uploads.ts';
import { getVersion } from '../../functions/core/versions.ts';
import { admin, type CoreHarness, coreHarness } from '../support/coreHarness.ts';
import { content, sha256 } from '../support/fixtures.ts';

describe('scanStagedObject', () => {
  let h: CoreHarness;
  beforeEach(() => {
    h = coreHarness();
  });
  afterEach(() => h.close());
  const ref = { namespace: 'demo', package: 'app', version: '1.0.0' };

  const open = async (declared: Buffer) => {
    const created = await createUpload(h.deps, admin, {
      ...ref,
      metadata: {},
      files: [
        { name: 'a', size: declared.length, sha256: sha256(declared), mediaType: 'application/octet-stream' },
      ],
    });
    const key = (await h.deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
    return { uploadId: created.uploadId, key };
  };

  it('quarantines only this upload when the bytes do not hash to the declared digest', async () => {
    const declared = content('declared', 64);
    const { uploadId, key } = await open(declared);
    h.blobs.stage(key, content('other', 64));
    await commitUpload(h.deps, admin, { uploadId });
    expect(await scanStagedObject(h.deps, key)).toBe('rejected');
    const v = await getVersion(h.deps, admin, ref);
    expect(v.state).toBe('quarantined');
    expect(v.files[0]!.scan.findings[0]).toMatchObject({ scanner: 'digest', rule: 'digest-mismatch' });
    expect(h.blobs.blobs.size).toBe(0);
    expect(h.blobs.staged.has(key)).toBe(false);
  });

  it('records a verdict found before the commit, and the commit carries it', async () => {
    const declared = content('early', 64);
    const { uploadId, key } = await open(declared);
    h.blobs.stage(key, Buffer.concat([declared.subarray(0, 63), Buffer.from('!')]));
    expect(await scanStagedObject(h.deps, key)).toBe('rejected');
    const v = await commitUpload(h.deps, admin, { uploadId });
    expect(v.state).toBe('quarantined');
  });

  it('commits quarantined when the scan rejects and drops the bytes in the middle of the commit', async () => {
    const declared = content('mid-commit', 64);
    const { uploadId, key } = await open(declared);
    h.blobs.stage(key, content('tampered', 64));
    // The commit has read the session (no verdict yet); the scan then rejects and deletes the bytes
    // before the commit looks for them in staging.
    const statStaged = h.blobs.statStaged.bind(h.blobs);
    let scanned = false;
    h.blobs.statStaged = async (stagingKey) => {
      if (!scanned) {
        scanned = true;
        expect(await scanStagedObject(h.deps, key)).toBe('rejected');
      }
      return statStaged(stagingKey);
    };

    const v = await commitUpload(h.deps, admin, { uploadId });

    expect(scanned).toBe(true);
    expect(v.state).toBe('quarantined');
    expect(v.files[0]!.scan.findings[0]).toMatchObject({ scanner: 'digest', rule: 'digest-mismatch' });
  });

  it('finds secrets and private keys across chunk boundaries', async () => {
    const data = Buffer.from(
      `config\naws_access_key_id=AKIA${'ABCDEFGHIJKLMNOP'}\n-----BEGIN OPENSSH PRIVATE KEY-----\n`,
    );
    const { uploadId, key } = await open(data);
    h.blobs.stage(key, data);
    await commitUpload(h.deps, admin, { uploadId });
    expect(await scanStagedObject(h.deps, key)).toBe('infected');
    const v = await getVersion(h.deps, admin, ref);
    expect(v.files[0]!.scan.findings.map((f) => f.rule).sort()).toEqual(['aws-access-key-id', 'private-key']);
    expect((await h.deps.index.getBlobs([sha256(data)])).get(sha256(data))!.state).toBe('quarantined');
  });

  it('completes a scan that died after copying the bytes, and treats a redelivery as a no-op', async () => {
    const data = content('recover', 100);
    const { uploadId, key } = await open(data);
    h.blobs.stage(key, data);
    await commitUpload(h.deps, admin, { uploadId });
    await h.blobs.copyToBlob(key, sha256(data)); // the previous delivery's last act before it died
    expect(await scanStagedObject(h.deps, key)).toBe('verified');
    expect((await getVersion(h.deps, admin, ref)).state).toBe('available');
    expect(await scanStagedObject(h.deps, key)).toBe('skipped');
  });

  it('skips, without an error, a session aborted while its bytes were being read (defect: an abort racing a scan logged ENOENT)', async () => {
    const data = content('aborted-mid-scan', 100);
    const { uploadId, key } = await open(data);
    h.blobs.stage(key, data);
    const reading = h.blobs.readStaged.bind(h.blobs);
    h.blobs.readStaged = async (k) => {
      const stream = await reading(k);
      await abortUpload(h.deps, admin, uploadId); // the abort lands while the scan holds the stream
      return stream;
    };
    expect(await scanStagedObject(h.deps, key)).toBe('skipped');
    expect(h.blobs.blobs.has(sha256(data))).toBe(false);
  });

  it('skips keys that are not staging keys and drops staged bytes of aborted sessions', async () => {
    expect(await scanStagedObject(h.deps, 'blobs/sha256/aa/aa')).toBe('skipped');
    const data = content('aborted');
    const { key, uploadId } = await open(data);
    h.blobs.stage(key, data);
    await h.deps.index.abortSession(uploadId, {
      at: '',
      actor: 'a',
      action: 'upload.abort',
      namespace: 'demo',
      target: 't',
      requestId: 'r',
    });
    expect(await scanStagedObject(h.deps, key)).toBe('skipped');
    expect(h.blobs.staged.has(key)).toBe(false);
  });
});

describe('signing the provenance of a many-file version', () => {
  let h: CoreHarness;
  beforeEach(() => {
    h = coreHarness();
  });
  afterEach(() => h.close());
  const ref = { namespace: 'demo', package: 'site', version: '2.0.0' };
  const bodies = [0, 1, 2].map((i) => content(`file-${i}`, 32));

  const openThree = async () => {
    const created = await createUpload(h.deps, admin, {
      ...ref,
      metadata: {},
      files: bodies.map((b, i) => ({
        name: `dist/f${i}.js`,
        size: b.length,
        sha256: sha256(b),
        mediaType: 'text/javascript',
      })),
    });
    const session = (await h.deps.index.getSession(created.uploadId))!;
    const keys = session.files.map((f, i) => {
      h.blobs.stage(f.stagingKey!, bodies[i]!);
      return f.stagingKey!;
    });
    return { uploadId: created.uploadId, keys };
  };
  const signed = async () =>
    (await h.deps.index.listAttestations(ref)).filter((a) => a.kind === 'provenance').length;

  it('signs once, when the last file scanned after the commit is verified', async () => {
    const { uploadId, keys } = await openThree();
    expect(await scanStagedObject(h.deps, keys[0]!)).toBe('verified');
    await commitUpload(h.deps, admin, { uploadId });
    expect(await scanStagedObject(h.deps, keys[2]!)).toBe('verified');
    expect(await signed()).toBe(0);
    expect(await scanStagedObject(h.deps, keys[1]!)).toBe('verified');
    expect(await signed()).toBe(1);
    expect((await getVersion(h.deps, admin, ref)).state).toBe('available');
  });

  it('signs through the commit when every file was verified before it', async () => {
    const { uploadId, keys } = await openThree();
    for (const key of keys) expect(await scanStagedObject(h.deps, key)).toBe('verified');
    expect(await signed()).toBe(0);
    const version = await commitUpload(h.deps, admin, { uploadId });
    expect(version.state).toBe('available');
    expect(await signed()).toBe(1);
  });
});
