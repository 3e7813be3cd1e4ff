import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiAnswer, call, settled, uploadAll } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

/** Files of 2 KiB or less go in the pack here; the larger ones keep a PUT of their own. */
const PACK_MAX_FILE_SIZE = 2048;

const declare = (version: string, files: Record<string, Buffer>, pack = true) => ({
  namespace: 'demo',
  package: 'packed',
  version,
  pack,
  files: Object.entries(files).map(([name, data]) => ({ name, size: data.length, sha256: sha256(data) })),
});

/** PUTs the pack (the listed files' `sent` bytes, in its order) with exactly its signed headers. */
async function putPack(created: ApiAnswer, sent: Record<string, Buffer>): Promise<Response> {
  const names: string[] = created.body.files.map((f: { name: string }) => f.name);
  const pack = created.body.pack;
  const body = Buffer.concat(pack.files.map((i: number) => sent[names[i]!]!));
  return fetch(pack.url, { method: 'PUT', headers: pack.headers, body });
}

describeForEachBackend('uploads that send small files in one pack', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { config: { packMaxFileSize: PACK_MAX_FILE_SIZE } });
  });
  afterAll(async () => s?.close());

  it('publishes 80 small files in one pack and 2 big ones on their own, and serves each byte-identical', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 80; i++) files[`dist/small-${i}.txt`] = content(`small-${i}`, (i * 37) % 2049);
    files['dist/big-a.bin'] = content('big-a', 10_000);
    files['dist/big-b.bin'] = content('big-b', 70_000);
    const created = await call(s.url, 'POST', '/v1/uploads', declare('1.0.0', files));
    expect(created.status).toBe(201);
    const actions = created.body.files.map((f: { action: string }) => f.action);
    expect(actions).toEqual([...Array(80).fill('packed'), 'upload', 'upload']);
    expect(created.body.pack.files).toEqual([...Array(80).keys()]);
    expect(created.body.pack.size).toBe(
      Object.values(files)
        .slice(0, 80)
        .reduce((n, d) => n + d.length, 0),
    );

    expect((await putPack(created, files)).status).toBe(200);
    await uploadAll(created, files);
    const committed = await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    expect(committed.status, JSON.stringify(committed.body)).toBe(200);

    expect((await settled(s.url, '/v1/packages/demo/packed/versions/1.0.0')).body.state).toBe('available');
    for (const [name, data] of Object.entries(files)) {
      const answer = await call(
        s.url,
        'GET',
        `/v1/packages/demo/packed/versions/1.0.0/files/${name}?redirect=false`,
      );
      expect(answer.status).toBe(200);
      const bytes = Buffer.from(await (await fetch(answer.body.url)).arrayBuffer());
      expect(bytes.equals(data), name).toBe(true);
    }
    const stored = new Set(await s.storedBlobs());
    expect(Object.values(files).every((d) => stored.has(sha256(d)))).toBe(true);
  }, 300_000);

  it('quarantines only the tampered file of a pack; the others are verified and stored', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 5; i++) files[`f${i}.txt`] = content(`tamper-${i}`, 300 + i);
    const sent = { ...files, 'f2.txt': Buffer.from(files['f2.txt']!).fill(0x2a) };
    const created = await call(s.url, 'POST', '/v1/uploads', declare('2.0.0', files));
    expect((await putPack(created, sent)).status).toBe(200);
    expect((await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`)).status).toBe(200);

    // Quarantined from the first rejection on: wait for the verdicts of the rest of the pack too.
    await s.whenIdle();
    const version = (await call(s.url, 'GET', '/v1/packages/demo/packed/versions/2.0.0')).body;

    expect(version.state).toBe('quarantined');
    const rules = version.files.map(
      (f: { scan: { status: string; findings: { rule: string }[] } }) =>
        f.scan.findings[0]?.rule ?? f.scan.status,
    );
    expect(rules).toEqual(['clean', 'clean', 'digest-mismatch', 'clean', 'clean']);
    const stored = new Set(await s.storedBlobs());
    expect(['f0.txt', 'f1.txt', 'f3.txt', 'f4.txt'].every((n) => stored.has(sha256(files[n]!)))).toBe(true);
    expect(stored.has(sha256(files['f2.txt']!))).toBe(false);
  });

  it('refuses a commit before the pack is uploaded with 422 UploadIncomplete, and commits once it is', async () => {
    const files = { 'a.txt': content('early-a', 100), 'b.txt': content('early-b', 200) };
    const created = await call(s.url, 'POST', '/v1/uploads', declare('3.0.0', files));

    const early = await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);

    expect(early.status).toBe(422);
    expect(early.body.error).toMatchObject({
      code: 'UploadIncomplete',
      details: { file: 'a.txt', pack: true },
    });
    expect((await putPack(created, files)).status).toBe(200);
    expect((await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`)).status).toBe(200);
    expect((await settled(s.url, '/v1/packages/demo/packed/versions/3.0.0')).body.state).toBe('available');
  });

  it('answers no pack to a client that does not ask, nor when no file is small enough', async () => {
    const small = { 'a.txt': content('plain', 10) };
    const plain = await call(s.url, 'POST', '/v1/uploads', declare('4.0.0', small, false));
    expect(plain.body.pack).toBeUndefined();
    expect(plain.body.files[0].action).toBe('upload');
    const big = { 'big.bin': content('only-big', PACK_MAX_FILE_SIZE + 1) };
    const none = await call(s.url, 'POST', '/v1/uploads', declare('4.0.1', big));
    expect(none.body.pack).toBeUndefined();
    expect(none.body.files[0].action).toBe('upload');
    for (const id of [plain.body.uploadId, none.body.uploadId])
      expect((await call(s.url, 'DELETE', `/v1/uploads/${id}`)).status).toBe(204);
  });

  it('refuses a pack that is not a boolean with 400 and changes nothing', async () => {
    const before = await s.snapshot();

    const answer = await call(s.url, 'POST', '/v1/uploads', {
      ...declare('5.0.0', { 'a.txt': content('x', 5) }),
      pack: 'yes',
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('InvalidRequest');
    expect(answer.body.error.details.issues[0].path).toBe('pack');
    expect(await s.snapshot()).toEqual(before);
  });

  it('deletes the staged pack when the upload is aborted', async () => {
    // No scan may take the pack first: this server scans nothing from here on (the last test).
    await s.pauseScans();
    const files = { 'a.txt': content('abort-a', 100), 'b.txt': content('abort-b', 200) };
    const created = await call(s.url, 'POST', '/v1/uploads', declare('6.0.0', files));
    expect((await putPack(created, files)).status).toBe(200);
    const packKey = `staging/${created.body.uploadId}/pack`;
    expect(JSON.stringify(await s.snapshot())).toContain(packKey);

    expect((await call(s.url, 'DELETE', `/v1/uploads/${created.body.uploadId}`)).status).toBe(204);

    expect(JSON.stringify(await s.snapshot())).not.toContain(packKey);
  });
});

describe('the local store refuses a pack PUT of the wrong size', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('embedded');
  });
  afterAll(async () => s?.close());

  it('answers 400 SizeMismatch to a body shorter or longer than signed, and stages nothing', async () => {
    const files = { 'a.txt': content('size-a', 100), 'b.txt': content('size-b', 200) };
    const created = await call(s.url, 'POST', '/v1/uploads', declare('1.0.0', files));
    const pack = created.body.pack;
    await s.whenIdle();
    const before = await s.snapshot();

    for (const size of [pack.size - 1, pack.size + 1]) {
      const res = await fetch(pack.url, {
        method: 'PUT',
        headers: { 'content-length': String(size) },
        body: Buffer.alloc(size, 0x41),
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('SizeMismatch');
    }
    expect(await s.snapshot()).toEqual(before);
  });
});
