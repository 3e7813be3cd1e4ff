import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, startStore, type TestStore } from './harness.ts';

/** A store configured with a clamd that is not there: every scan fails, is retried, and says why. */
describe('arca with a scan engine that cannot be reached', () => {
  let store: TestStore;
  let input: Workdir;

  beforeAll(async () => {
    store = await startStore({ scanEnv: { ARCA_CLAMD: 'unix:/nonexistent/arca-test/clamd.sock' } });
    input = await workdir();
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
  });

  it('publish --wait gives up as transient, naming the engine and why; show prints it under the file', async () => {
    const file = await input.file('app.txt', 'nothing to see\n');

    const published = await arca(store, ['publish', 'demo/app@1.0.0', file, '--wait', '--timeout', '2s']);

    expect(published.code, published.stderr).toBe(10);
    expect(published.stderr).toMatch(
      /demo\/app@1\.0\.0 is still pending; scan errors \(retrying\): app\.txt: clamav: clamd at .*clamd\.sock is unreachable/,
    );
    const shown = await arca(store, ['show', 'demo/app@1.0.0']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/app\.txt .* pending {2}scan error\n/);
    expect(shown.stdout).toMatch(
      / {4}scan error: clamav: clamd at .*clamd\.sock is unreachable.* \(retrying\)/,
    );
  });
});
