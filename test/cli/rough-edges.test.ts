import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arca, startStore, type TestStore } from './harness.ts';

const nowhere = { url: 'http://127.0.0.1:9', token: '' };
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('the CLI as a new user meets it (issue 14, item 5)', () => {
  it('prints its version, the one in package.json', async () => {
    const result = await arca(nowhere, ['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `arca ${version}\n` });
  });

  it('answers `arca help publish` with the publish help, not the overview', async () => {
    const result = await arca(nowhere, ['help', 'publish']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: arca publish');
  });

  describe('against a store', () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await startStore();
    });
    afterAll(async () => store?.close());

    it('writes errors as JSON on stderr under --json, with the same exit code', async () => {
      const plain = await arca(store, ['show', 'demo/missing@1.0.0']);
      const json = await arca(store, ['show', 'demo/missing@1.0.0', '--json']);
      expect(json.code).toBe(plain.code);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'NotFound', exitCode: 2 } });
    });
  });
});
