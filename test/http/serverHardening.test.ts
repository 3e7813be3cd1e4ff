import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serve } from '../../functions/local/serve.ts';
import { call, createUpload, publish } from '../support/client.ts';
import { ADMIN_TOKEN } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';
import { eventually, requestHead, useLoggedServer, within } from './localServerHarness.ts';

const BOUND_MS = 10_000;

// Embedded only: each test here is about the node:http host, the same whichever backend it hosts.
describe('the local server (issue 11, defect 8: server items)', () => {
  const harness = useLoggedServer();
  const connect = () => harness.connect();

  const linesFor = (method: string) =>
    harness.server.logs.filter((l) => l.method === method || l.msg === 'unhandled');

  it('logs a client that hangs up mid-body of an API call as a client abort, not as unhandled', async () => {
    const client = connect();
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-length': '1000' };
    const dispatched = once(harness.server.server.server, 'request');
    client.write(`${requestHead('POST', `${harness.server.url}/v1/uploads`, headers)}{"namespace":`);
    await dispatched;
    client.destroy();
    const line = await eventually(
      () => harness.server.logs.find((l) => l.msg === 'client aborted' && l.method === 'POST'),
      BOUND_MS,
      'logging the abort',
    );
    expect(line).toMatchObject({ level: 'info', path: '/v1/uploads' });
    expect(line).not.toHaveProperty('error');
    expect(linesFor('POST').filter((l) => l.msg === 'unhandled' || l.level === 'error')).toEqual([]);
  });

  it('logs a client that hangs up mid-upload as a client abort, with no 500 and no stack', async () => {
    const data = content('abandoned', 100_000);
    const created = await createUpload(harness.server.url, { version: '1.0.0', files: { 'a.bin': data } });
    const target = created.body.files[0].upload as { url: string; headers: Record<string, string> };
    const client = connect();
    const dispatched = once(harness.server.server.server, 'request');
    client.write(requestHead('PUT', target.url, target.headers));
    client.write(data.subarray(0, 10_000));
    await dispatched;
    client.destroy();
    const line = await eventually(
      () => harness.server.logs.find((l) => l.msg === 'client aborted' && l.method === 'PUT'),
      BOUND_MS,
      'logging the abort',
    );
    expect(line).toMatchObject({ level: 'info', path: expect.stringMatching(/^\/storage\/upload\//) });
    expect(line).not.toHaveProperty('error');
    const failures = linesFor('PUT').filter(
      (l) => l.msg === 'unhandled' || l.level === 'error' || l.status === 500,
    );
    expect(failures).toEqual([]);
  });

  it('sends x-content-type-options: nosniff on API answers, errors included', async () => {
    for (const [path, token] of [
      ['/v1/health', ADMIN_TOKEN],
      ['/v1/packages/demo/app/versions', null],
      ['/v1/nothing-here', ADMIN_TOKEN],
    ] as const) {
      const res = await call(harness.server.url, 'GET', path, undefined, token);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('serves downloads as attachments that a browser may neither sniff nor run', async () => {
    const files = { 'page.html': Buffer.from('<script>alert(1)</script>') };
    expect((await publish(harness.server.url, { version: '2.0.0', files })).status).toBe(200);
    await harness.server.backend.scanQueue.whenIdle();
    const signed = await call(
      harness.server.url,
      'GET',
      '/v1/packages/demo/app/versions/2.0.0/files/page.html?redirect=false',
    );
    const download = await fetch(signed.body.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(download.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(download.headers.get('content-disposition')).toMatch(/^attachment;/);
    const forged = new URL(signed.body.url);
    forged.pathname = forged.pathname.replace('/download/', '/download/x');
    const refused = await fetch(forged);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers a 20 KB path with 431 in the error envelope', async () => {
    const client = connect();
    client.write(`GET /v1/${'a'.repeat(20_000)} HTTP/1.1\r\nhost: localhost\r\n\r\n`);
    await within(client.closed, BOUND_MS, 'answering the long path');
    expect(client.parsed()).toMatchObject({ status: 431, body: { error: { code: 'InvalidRequest' } } });
    expect(client.parsed().headers).toContain('x-request-id: ');
    expect(client.parsed().headers).toContain('x-content-type-options: nosniff');
  });

  it('answers a malformed request with 400 in the error envelope', async () => {
    const client = connect();
    client.write('GET /v1/health HTTP/1.1\r\nhost: localhost\r\nno colon here\r\n\r\n');
    await within(client.closed, BOUND_MS, 'answering the malformed request');
    expect(client.parsed()).toMatchObject({ status: 400, body: { error: { code: 'InvalidRequest' } } });
  });
});

describe('the admin token at start (issue 11, defect 8: printed on every start)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arca-serve-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  /** Starts `npm start`'s server in process and returns what it printed for a person. */
  const printedAtStart = async (env: Record<string, string>) => {
    const printed: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      printed.push(String(text));
      return true;
    });
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const server = await serve({
        ARCA_DATA_DIR: dataDir,
        ARCA_PORT: '0',
        ARCA_GC_INTERVAL_SECONDS: '0',
        ...env,
      });
      await server.close();
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
    return printed.join('');
  };

  it('prints a generated token once, then only where it is kept', async () => {
    const first = await printedAtStart({});
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    expect(first).toContain(token);

    const second = await printedAtStart({});
    expect(second).not.toContain(token);
    expect(second).toContain(join(dataDir, 'admin-token'));
  });

  it('never prints a token that came from ARCA_ADMIN_TOKEN', async () => {
    const printed = await printedAtStart({ ARCA_ADMIN_TOKEN: 'from-the-environment-secret' });
    expect(printed).not.toContain('from-the-environment-secret');
    expect(printed).toContain('ARCA_ADMIN_TOKEN');
  });
});
