import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arca } from './harness.ts';

/**
 * The lease routes (shared/API.md) as a stub that records what the CLI asks, so the client side of
 * `arca lease` is proven before the server has them (stages-leases.test.ts runs it end to end).
 */
function startStubApi(): Promise<{ url: string; calls: string[]; server: Server }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      calls.push(`${req.method} ${req.url} ${body}`.trim());
      if (req.method === 'POST' && req.url === '/v1/leases') {
        const { version } = JSON.parse(body) as { version: string };
        if (version === '9.9.9') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { code: 'NotFound', message: 'version demo/web@9.9.9 not found' } }),
          );
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ leaseId: 'L1', expiresAt: '2030-01-01T00:00:00Z' }));
      } else if (req.method === 'DELETE' && req.url === '/v1/leases/L1') {
        res.writeHead(204).end();
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'NotFound', message: `no route for ${req.method} ${req.url}` } }),
        );
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server }),
    ),
  );
}

describe('arca lease (against a stub of the lease routes)', () => {
  let stub: Awaited<ReturnType<typeof startStubApi>>;

  beforeAll(async () => {
    stub = await startStubApi();
  });

  afterAll(() => {
    stub.server.close();
  });

  it('acquires, runs the command with ARCA_LEASE_ID, releases, and exits with the command’s code', async () => {
    stub.calls.length = 0;
    const command = 'console.log(process.env.ARCA_LEASE_ID); process.exit(7)';

    const result = await arca({ url: stub.url, token: 't' }, [
      'lease',
      'demo/web@1.0.0',
      '--ttl',
      '15m',
      '--holder',
      'deploy-42',
      '--',
      process.execPath,
      '-e',
      command,
    ]);

    expect(result.code).toBe(7);
    expect(result.stdout.trim()).toBe('L1');
    expect(stub.calls).toEqual([
      'POST /v1/leases {"namespace":"demo","package":"web","version":"1.0.0","holder":"deploy-42","ttlSeconds":900}',
      'DELETE /v1/leases/L1',
    ]);
  });

  it('exits 128+n when the command is killed by signal n', async () => {
    const result = await arca({ url: stub.url, token: 't' }, [
      'lease',
      'demo/web@1.0.0',
      '--',
      process.execPath,
      '-e',
      'process.kill(process.pid, "SIGTERM")',
    ]);

    expect(result.code).toBe(128 + 15);
    expect(stub.calls.at(-1)).toBe('DELETE /v1/leases/L1');
  });

  it('exits 2 and runs nothing when the version does not exist', async () => {
    const result = await arca({ url: stub.url, token: 't' }, [
      'lease',
      'demo/web@9.9.9',
      '--',
      process.execPath,
      '-e',
      'console.log("ran")',
    ]);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('NotFound: version demo/web@9.9.9 not found');
  });

  it('exits 1 for a TTL outside 60s..24h', async () => {
    const result = await arca({ url: stub.url, token: 't' }, [
      'lease',
      'demo/web@1.0.0',
      '--ttl',
      '10s',
      '--',
      'true',
    ]);

    expect(result.code).toBe(1);
  });
});
