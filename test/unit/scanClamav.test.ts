import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scannersFromEnv } from '../../functions/adapters/scanEngines.ts';
import type { CoreDeps } from '../../functions/core/deps.ts';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { commitUpload, createUpload } from '../../functions/core/uploads.ts';
import { getVersion } from '../../functions/core/versions.ts';
import { tar, zip } from '../support/archives.ts';
import { type Clamd, startClamd, TEST_PATTERN } from '../support/clamd.ts';
import { admin, type CoreHarness, coreHarness } from '../support/coreHarness.ts';
import { sha256 } from '../support/fixtures.ts';

let clamd: Clamd;
beforeAll(async () => {
  clamd = await startClamd();
}, 120_000);
afterAll(() => clamd?.stop());

describe('the scan step with ClamAV (ARCA_CLAMD)', () => {
  let h: CoreHarness;
  let deps: CoreDeps;
  beforeEach(() => {
    h = coreHarness();
    deps = { ...h.deps, scanners: scannersFromEnv({ ARCA_CLAMD: clamd.address }) };
  });
  afterEach(() => h.close());
  const infected = Buffer.from(`binary…${TEST_PATTERN}…more`);
  let n = 0;

  /** Publishes `bytes` as the one file of a new version and returns its key and reference. */
  const publish = async (bytes: Buffer, name = 'artifact.bin') => {
    const ref = { namespace: 'demo', package: 'app', version: `1.0.${n++}` };
    const created = await createUpload(deps, admin, {
      ...ref,
      metadata: {},
      files: [{ name, size: bytes.length, sha256: sha256(bytes), mediaType: 'application/octet-stream' }],
    });
    const key = (await deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
    h.blobs.stage(key, bytes);
    await commitUpload(deps, admin, { uploadId: created.uploadId });
    return { key, ref };
  };

  it.each([
    ['a plain file', infected, undefined],
    ['a tar.gz', gzipSync(tar([{ path: 'bin/tool', data: infected }])), 'bin/tool'],
    [
      'a zip inside a tar',
      tar([{ path: 'dist/bundle.zip', data: zip([{ path: 'lib/bad.so', data: infected, deflate: true }]) }]),
      'dist/bundle.zip!/lib/bad.so',
    ],
  ])('quarantines %s matching the test signature, with the signature’s name', async (_, bytes, path) => {
    const { key, ref } = await publish(bytes);

    expect(await scanStagedObject(deps, key)).toBe('infected');

    const version = await getVersion(deps, admin, ref);
    expect(version.state).toBe('quarantined');
    expect(version.files[0]!.scan.findings).toEqual([
      {
        scanner: 'clamav',
        rule: 'Arca.Test.Pattern.UNOFFICIAL',
        message: 'ClamAV found Arca.Test.Pattern.UNOFFICIAL',
        ...(path ? { path } : {}),
      },
    ]);
  });

  it('calls a clean file clean and says which engines ran', async () => {
    const { key, ref } = await publish(gzipSync(tar([{ path: 'readme', data: 'nothing here' }])));

    expect(await scanStagedObject(deps, key)).toBe('verified');

    const { scan } = (await getVersion(deps, admin, ref)).files[0]!;
    expect(scan.status).toBe('clean');
    expect(scan.engines?.map((e) => e.name)).toEqual([
      'digest',
      'signature',
      'secrets',
      'archive',
      'clamav',
      'sbom',
    ]);
    expect(scan.engines?.find((e) => e.name === 'clamav')).toMatchObject({
      version: expect.stringMatching(/^ClamAV /),
    });
  });

  it('never calls bytes clean when clamd is unreachable: the scan fails, is retried, and then scans', async () => {
    const down = { ...deps, scanners: scannersFromEnv({ ARCA_CLAMD: `unix:${clamd.socketPath}.down` }) };
    const { key, ref } = await publish(infected);

    await expect(scanStagedObject(down, key)).rejects.toThrow(/clamd at unix:.* is unreachable/);
    const pending = await getVersion(deps, admin, ref);
    expect(pending.state).toBe('pending');
    expect(pending.files[0]!.state).toBe('pending');
    expect(pending.files[0]!.scan.status).toBe('error');
    expect(pending.files[0]!.scan.error).toEqual({
      engine: 'clamav',
      message: expect.stringMatching(/clamd at unix:.* is unreachable/),
    });
    expect(h.blobs.staged.has(key)).toBe(true); // kept for the retry

    expect(await scanStagedObject(deps, key)).toBe('infected'); // the retry, once clamd answers
    const scanned = await getVersion(deps, admin, ref);
    expect(scanned.files[0]!.scan.status).toBe('infected');
    expect(scanned.files[0]!.scan.error).toBeUndefined();
  });
});
