import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { arca } from './harness.ts';

describe('arca serve', () => {
  it('serves the API like npm start and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'arca-serve-'));
    const child = spawn(process.execPath, ['bin/arca.js', 'serve', '--port', '0', '--data-dir', dataDir], {
      env: { ...process.env, ARCA_ADMIN_TOKEN: 'serve-token' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      let url = '';
      for await (const line of createInterface({ input: child.stdout })) {
        const parsed = JSON.parse(line) as { msg?: string; url?: string };
        if (parsed.msg === 'arca listening') {
          url = parsed.url!;
          break;
        }
      }

      const result = await arca({ url, token: 'serve-token' }, ['versions', 'demo/nothing', '--json']);

      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual([]);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      child.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
