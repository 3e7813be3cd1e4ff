import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call } from '../support/client.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));

describeForEachBackend('the OpenAPI document', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s?.close());

  it('is served without a token, and is exactly docs/openapi.json', async () => {
    const served = await call(s.url, 'GET', '/v1/openapi.json', undefined, null);
    expect(served.status).toBe(200);
    expect(served.body).toEqual(committed);
  });
});
