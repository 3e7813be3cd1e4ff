import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiUrl } from '../../cli/client.ts';
import { arca, startStore, type TestStore } from './harness.ts';

const run = promisify(execFile);

describe('rough edges around the store (issue 14, item 5)', () => {
  it('keeps the path of an ARCA_URL behind a proxy (https://ci.example/arca)', () => {
    expect(apiUrl('https://ci.example/arca', '/v1/whoami').toString()).toBe(
      'https://ci.example/arca/v1/whoami',
    );
    expect(apiUrl('https://ci.example/arca/', '/v1/x?limit=2').toString()).toBe(
      'https://ci.example/arca/v1/x?limit=2',
    );
    expect(apiUrl('http://127.0.0.1:7070', '/v1/health').toString()).toBe('http://127.0.0.1:7070/v1/health');
  });

  it('prints no empty Options heading in any help', async () => {
    for (const command of ['show', 'gc', 'whoami']) {
      const { stdout } = await arca({ url: 'http://127.0.0.1:9', token: '' }, [command, '--help']);
      expect(stdout, command).not.toMatch(/Options:\n\s*\n|Options:\nCommon options:/);
    }
  });

  describe('with a store', () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await startStore();
    });
    afterAll(async () => store?.close());

    it('shows progress while it hashes a large file', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'arca-hash-'));
      const big = join(dir, 'big.bin');
      await writeFile(big, Buffer.alloc(20 * 1024 * 1024, 7));
      const result = await arca(store, ['publish', 'demo/hashed@1.0.0', big]);
      await rm(dir, { recursive: true, force: true });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('hashing big.bin');
    });

    it('says so when a package has no versions, and exits 0', async () => {
      const result = await arca(store, ['versions', 'demo/never-published']);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('no versions of demo/never-published');
    });
  });

  describe('npm start on a busy port', () => {
    let busy: Server;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'arca-busy-'));
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      busy.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('says in one line which port is taken and what to set, with no stack', async () => {
      const port = (busy.address() as { port: number }).port;
      const failed = await run(process.execPath, ['--import', 'tsx', 'functions/local/main.ts'], {
        env: { ...process.env, ARCA_PORT: String(port), ARCA_DATA_DIR: dataDir, ARCA_ADMIN_TOKEN: 'x' },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed.code).toBe(1);
      const lines = failed.stderr.split('\n').filter((l) => l.startsWith('arca:'));
      expect(lines).toEqual([
        `arca: 127.0.0.1:${port} is already in use: set ARCA_PORT (and ARCA_HOST) to listen elsewhere`,
      ]);
      expect(failed.stderr).not.toContain('    at ');
    });
  });
});
