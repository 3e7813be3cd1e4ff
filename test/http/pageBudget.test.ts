import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, createUpload, settled, uploadAll } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

/** The largest answer a listing may give in this suite (bytes of JSON); each version is ~70 KB. */
const MAX_PAGE_BYTES = 200_000;
const VERSIONS = 6;

describeForEachBackend('listings bounded by their size', (backend) => {
  let s: TestServer;
  const bytes = content('page-budget', 64);

  beforeAll(async () => {
    s = await startTestServer(backend, { config: { maxPageBytes: MAX_PAGE_BYTES } });
    const first = await createUpload(s.url, { package: 'big', version: '0', files: { 'seed.bin': bytes } });
    await uploadAll(first, { 'seed.bin': bytes });
    expect((await call(s.url, 'POST', `/v1/uploads/${first.body.uploadId}/commit`)).status).toBe(200);
    expect((await settled(s.url, '/v1/packages/demo/big/versions/0')).body.state).toBe('available');
    // 200 files of 300-character names, all holding the stored blob: nothing to upload.
    for (let v = 1; v < VERSIONS; v++) {
      const files = Array.from({ length: 200 }, (_, i) => ({
        name: `${'d'.repeat(250)}/file-${String(i).padStart(4, '0')}-${'e'.repeat(35)}`,
        size: bytes.length,
        sha256: sha256(bytes),
      }));
      const body = { namespace: 'demo', package: 'big', version: String(v), files };
      const created = await call(s.url, 'POST', '/v1/uploads', body);
      expect(created.status).toBe(201);
      expect((await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`)).status).toBe(200);
    }
  }, 300_000);
  afterAll(() => s?.close());

  /** Follows `nextCursor` from `path`, answering every page's items and the size of its body. */
  const pages = async (path: string) => {
    const read: { versions: string[]; bytes: number }[] = [];
    let cursor: string | null = null;
    do {
      const page = await call(s.url, 'GET', cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path);
      expect(page.status).toBe(200);
      read.push({
        versions: page.body.items.map((v: { version: string }) => v.version),
        bytes: Buffer.byteLength(JSON.stringify(page.body)),
      });
      cursor = page.body.nextCursor;
    } while (cursor);
    return read;
  };

  it('ends a version listing early rather than answer more than the page budget, and its cursor goes on from there (defect: a page of large versions was answered whole, tens of MB, over a Lambda answer)', async () => {
    const read = await pages('/v1/packages/demo/big/versions?limit=100');

    expect(read.length).toBeGreaterThan(1);
    for (const page of read) expect(page.bytes).toBeLessThanOrEqual(MAX_PAGE_BYTES + 1024);
    expect(read.flatMap((p) => p.versions)).toEqual(['5', '4', '3', '2', '1', '0']);
  });

  it('ends a search page early the same way', async () => {
    const read = await pages(`/v1/search?sha256=${sha256(bytes)}&limit=100`);

    expect(read.length).toBeGreaterThan(1);
    for (const page of read) expect(page.bytes).toBeLessThanOrEqual(MAX_PAGE_BYTES + 1024);
    expect(read.flatMap((p) => p.versions).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
  });
});
