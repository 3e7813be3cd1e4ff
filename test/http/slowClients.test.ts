import { describe, expect, it } from 'vitest';
import { call, createUpload, snapshot, withoutRefusalAudits } from '../support/client.ts';
import { ADMIN_TOKEN } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';
import { eventually, requestHead, useLoggedServer, within } from './localServerHarness.ts';

// Short timeouts, so each test proves the mechanism in seconds; the defaults cut a drip within 20 s.
const TIMEOUTS = { headersMs: 2000, bodyStallMs: 2000, jsonBodyMs: 3000 };
/** Longest a cut-off may take here: the timeout, node's and our check intervals, and slack for CI. */
const CUT_OFF_BOUND_MS = 10_000;

// Embedded only: this is the node:http host's behaviour, the same whichever backend it hosts.
describe('slow clients (issue 11, defect 6: slow clients hold the server)', () => {
  const harness = useLoggedServer(TIMEOUTS);
  const connect = () => harness.connect();

  const signedUpload = async (version: string, data: Buffer) => {
    const created = await createUpload(harness.server.url, { version, files: { 'a.bin': data } });
    expect(created.status).toBe(201);
    return created.body.files[0].upload as { url: string; headers: Record<string, string> };
  };

  it('cuts off a signed upload that drips a byte at a time with 408, while other requests are served', async () => {
    const target = await signedUpload('1.0.0', content('drip', 100_000));
    const before = await snapshot(harness.server);
    const drip = connect();
    drip.write(requestHead('PUT', target.url, target.headers));
    drip.drip(100);

    const health = await call(harness.server.url, 'GET', '/v1/health');
    expect(health.status).toBe(200);
    expect(drip.isClosed()).toBe(false);

    await within(drip.closed, CUT_OFF_BOUND_MS, 'cutting off the dripping upload');
    expect(drip.parsed()).toMatchObject({ status: 408, body: { error: { code: 'RequestTimeout' } } });
    // The server has let go of the request (and removed its partial write) once it logged it.
    const logged = await eventually(
      () => harness.server.logs.find((l) => l.method === 'PUT' && l.msg === 'request timed out'),
      CUT_OFF_BOUND_MS,
      'logging the cut-off',
    );
    expect(logged).toMatchObject({ level: 'warn', status: 408 });
    expect(await snapshot(harness.server)).toEqual(before);
  });

  it('lets an upload slower than the stall window through as long as it keeps moving', async () => {
    const data = content('steady', 64 * 1024);
    const target = await signedUpload('1.0.1', data);
    const upload = connect();
    upload.write(requestHead('PUT', target.url, target.headers));
    // 16 KiB a second for four seconds: longer than both the stall window and the JSON body limit.
    for (let offset = 0; offset < data.length; offset += 16 * 1024) {
      upload.write(data.subarray(offset, offset + 16 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const status = await eventually(() => upload.parsed().status || undefined, CUT_OFF_BOUND_MS, 'an answer');
    expect(status).toBe(200);
  });

  it('cuts off an authenticated JSON body that never finishes with 408', async () => {
    const before = await snapshot(harness.server);
    const slow = connect();
    const headers = {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'content-type': 'application/json',
      'content-length': '100000',
    };
    slow.write(requestHead('POST', `${harness.server.url}/v1/uploads`, headers));
    slow.drip(100, ' '.repeat(128)); // fast enough never to stall, far too slow to finish
    await within(slow.closed, CUT_OFF_BOUND_MS, 'cutting off the slow JSON body');
    expect(slow.parsed()).toMatchObject({ status: 408, body: { error: { code: 'RequestTimeout' } } });
    const logged = await eventually(
      () => harness.server.logs.find((l) => l.method === 'POST' && l.msg === 'request timed out'),
      CUT_OFF_BOUND_MS,
      'logging the cut-off',
    );
    expect(logged).toMatchObject({ level: 'warn', status: 408 });
    expect(await snapshot(harness.server)).toEqual(before);
  });

  it('answers an unauthenticated POST with 401 without reading its body, and closes', async () => {
    const before = withoutRefusalAudits(await snapshot(harness.server));
    const unauthenticated = connect();
    const headers = { 'content-type': 'application/json', 'content-length': '1000' };
    unauthenticated.write(`${requestHead('POST', `${harness.server.url}/v1/uploads`, headers)}{"names`);
    unauthenticated.drip(500);
    await within(unauthenticated.closed, CUT_OFF_BOUND_MS, 'answering the unauthenticated drip');
    expect(unauthenticated.parsed()).toMatchObject({
      status: 401,
      body: { error: { code: 'Unauthenticated' } },
    });
    expect(unauthenticated.parsed().headers).toContain('connection: close');
    expect(withoutRefusalAudits(await snapshot(harness.server))).toEqual(before);
  });

  it('answers a storage PUT with a forged signature with 403 without reading its body', async () => {
    const target = await signedUpload('1.0.2', content('forged', 1000));
    const before = await snapshot(harness.server);
    const forged = connect();
    const url = target.url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    forged.write(`${requestHead('PUT', url, target.headers)}x`);
    forged.drip(500);
    await within(forged.closed, CUT_OFF_BOUND_MS, 'answering the forged drip');
    expect(forged.parsed()).toMatchObject({ status: 403, body: { error: { code: 'Forbidden' } } });
    expect(await snapshot(harness.server)).toEqual(before);
  });

  it('cuts off a client that sends its headers a line at a time with 408', async () => {
    const slow = connect();
    slow.write(`GET /v1/health HTTP/1.1\r\nhost: ${new URL(harness.server.url).host}\r\n`);
    slow.drip(500, 'x-slow: 1\r\n');
    await within(slow.closed, CUT_OFF_BOUND_MS, 'cutting off the slow headers');
    expect(slow.parsed()).toMatchObject({ status: 408, body: { error: { code: 'RequestTimeout' } } });
    expect((await call(harness.server.url, 'GET', '/v1/health')).status).toBe(200);
  });
});
