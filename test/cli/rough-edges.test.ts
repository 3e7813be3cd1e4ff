import { spawnSync } from 'node:child_process';
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

  it.each(['bash', 'zsh'])('prints a %s completion script that offers every command', async (shell) => {
    const result = await arca(nowhere, ['completion', shell]);
    expect(result.code).toBe(0);
    for (const command of ['publish', 'fetch', 'promote', 'whoami', 'token', 'completion']) {
      expect(result.stdout).toContain(command);
    }
    expect(result.stdout).toContain(shell === 'bash' ? 'complete -o default -F _arca arca' : '#compdef arca');
  });

  it('checks the bash script with bash -n', async () => {
    const { stdout } = await arca(nowhere, ['completion', 'bash']);
    const checked = spawnSync('bash', ['-n'], { input: stdout });
    expect(checked.status, checked.stderr?.toString()).toBe(0);
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
