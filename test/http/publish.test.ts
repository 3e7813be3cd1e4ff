import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tar } from '../support/archives.ts';
import { call, createUpload, publish, settled, uploadAll, withoutRefusalAudits } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

describeForEachBackend('publishing and fetching', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s?.close());
  const versionPath = (v: string, pkg = 'app') => `/v1/packages/demo/${pkg}/versions/${v}`;

  it('answers health without a token and with a request id', async () => {
    const res = await call(s.url, 'GET', '/v1/health', undefined, null);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('publishes a version that turns available and downloads byte-identical', async () => {
    const files = { 'api.tar.gz': content('api', 50_000), 'sbom.json': content('sbom') };
    const committed = await publish(s.url, { version: '1.0.0', files, metadata: { commit: '9f1c' } });
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({
      namespace: 'demo',
      package: 'app',
      version: '1.0.0',
      metadata: { commit: '9f1c' },
    });
    const v = await settled(s.url, versionPath('1.0.0'));
    expect(v.body.state).toBe('available');
    expect(v.body.files.map((f: { name: string; state: string }) => [f.name, f.state])).toEqual([
      ['api.tar.gz', 'available'],
      ['sbom.json', 'available'],
    ]);
    const redirect = await call(s.url, 'GET', `${versionPath('1.0.0')}/files/api.tar.gz`);
    expect(redirect.status).toBe(302);
    const got = await fetch(redirect.headers.get('location')!);
    expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(sha256(files['api.tar.gz']));
    const json = await call(s.url, 'GET', `${versionPath('1.0.0')}/files/sbom.json?redirect=false`);
    expect(json.body).toMatchObject({ sha256: sha256(files['sbom.json']), size: files['sbom.json'].length });
    expect(Date.parse(json.body.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('answers exists for content already stored, and commits it without bytes', async () => {
    const data = content('shared', 2048);
    await publish(s.url, { version: '2.0.0', files: { 'a.bin': data } });
    await settled(s.url, versionPath('2.0.0'));
    const created = await createUpload(s.url, { version: '2.0.1', files: { 'b.bin': data } });
    expect(created.body.files[0]).toEqual({ name: 'b.bin', sha256: sha256(data), action: 'exists' });
    const committed = await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    expect(committed.status).toBe(200);
    expect(committed.body.state).toBe('available');
  });

  it('commits idempotently: a second commit answers the same version', async () => {
    const files = { 'y.bin': content('y') };
    const c2 = await createUpload(s.url, { version: '3.0.1', files });
    await uploadAll(c2, files);
    const first = await call(s.url, 'POST', `/v1/uploads/${c2.body.uploadId}/commit`);
    const second = await call(s.url, 'POST', `/v1/uploads/${c2.body.uploadId}/commit`);
    expect(second.status).toBe(200);
    expect(second.body.createdAt).toBe(first.body.createdAt);
  });

  it('answers 404 to a commit after abort and 409 to an abort after commit', async () => {
    const files = { 'a.bin': content('abort') };
    const created = await createUpload(s.url, { version: '4.0.0', files });
    await uploadAll(created, files);
    expect((await call(s.url, 'DELETE', `/v1/uploads/${created.body.uploadId}`)).status).toBe(204);
    const commit = await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    expect(commit.status).toBe(404);
    expect(commit.body.error.code).toBe('NotFound');
    const more = { 'b.bin': content('b') };
    const done = await createUpload(s.url, { version: '4.0.1', files: more });
    await uploadAll(done, more);
    expect((await call(s.url, 'POST', `/v1/uploads/${done.body.uploadId}/commit`)).status).toBe(200);
    const abort = await call(s.url, 'DELETE', `/v1/uploads/${done.body.uploadId}`);
    expect(abort.status).toBe(409);
    expect(abort.body.error.code).toBe('Conflict');
  });

  it('quarantines content carrying a malware signature and never serves it', async () => {
    const files = { 'evil.txt': Buffer.from(`prefix ${EICAR} suffix`) };
    await publish(s.url, { version: '5.0.0', files });
    const v = await settled(s.url, versionPath('5.0.0'));
    expect(v.body.state).toBe('quarantined');
    expect(v.body.files[0].scan).toMatchObject({
      status: 'infected',
      findings: [{ rule: 'EICAR-Test-File' }],
    });
    const download = await call(s.url, 'GET', `${versionPath('5.0.0')}/files/evil.txt`);
    expect(download.status).toBe(409);
    expect(download.body.error.code).toBe('Conflict');
  });

  it('lists archives in the scan report and quarantines one hiding malware or a tar slip', async () => {
    const sbom = '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}';
    const clean = gzipSync(
      tar([
        { path: 'app/server', data: 'bin' },
        { path: 'app/sbom.cdx.json', data: sbom },
      ]),
    );
    const files = { 'app.tar.gz': clean, 'sbom.cdx.json': Buffer.from(sbom) };
    await publish(s.url, { version: '5.1.0', files });
    const good = await settled(s.url, versionPath('5.1.0'));
    expect(good.body.state).toBe('available');
    // Which engines ran, and when, is part of each report.
    const ran = { engines: expect.any(Array), scannedAt: expect.any(String) };
    expect(good.body.files[0].scan.engines.map((e: { name: string }) => e.name)).toEqual([
      'digest',
      'signature',
      'secrets',
      'archive',
      'sbom',
    ]);
    expect(good.body.files.map((f: { scan: unknown }) => f.scan)).toEqual([
      {
        status: 'clean',
        findings: [],
        ...ran,
        contents: {
          archive: {
            format: 'tar+gzip',
            entries: 2,
            expandedBytes: 3 + sbom.length,
            sboms: ['app/sbom.cdx.json'],
          },
        },
      },
      {
        status: 'clean',
        findings: [],
        ...ran,
        contents: { sbom: { format: 'CycloneDX', specVersion: '1.6' } },
      },
    ]);

    const hostile = gzipSync(
      tar([
        { path: 'tools/eicar.com', data: EICAR },
        { path: '../../etc/cron.d/x', data: '*' },
      ]),
    );
    await publish(s.url, { version: '5.1.1', files: { 'tools.tar.gz': hostile } });
    const bad = await settled(s.url, versionPath('5.1.1'));
    expect(bad.body.state).toBe('quarantined');
    expect(bad.body.files[0].scan.findings).toMatchObject([
      { scanner: 'signature', rule: 'EICAR-Test-File', path: 'tools/eicar.com' },
      { scanner: 'archive', rule: 'path-traversal', path: '../../etc/cron.d/x' },
    ]);
  });

  it('lists an unknown package as empty and pages through every version exactly once', async () => {
    expect((await call(s.url, 'GET', '/v1/packages/demo/nothing/versions')).body).toEqual({
      items: [],
      nextCursor: null,
    });
    const names = Array.from({ length: 23 }, (_, i) => `0.${i}.0`);
    for (const v of names)
      await publish(s.url, { package: 'paged', version: v, files: { 'f.bin': content(v) } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=5&cursor=${encodeURIComponent(cursor)}` : '?limit=5';
      const page = await call(s.url, 'GET', `/v1/packages/demo/paged/versions${query}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((v: { version: string }) => v.version));
      cursor = page.body.nextCursor ?? null;
    } while (cursor);
    expect(seen).toEqual([...names].reverse());
  });

  it('answers 401 with the error envelope and a request id on every route without a valid token', async () => {
    const before = withoutRefusalAudits(await s.snapshot());
    for (const [method, path] of [
      ['POST', '/v1/uploads'],
      ['GET', '/v1/packages/demo/app/versions'],
      ['GET', versionPath('1.0.0')],
      ['DELETE', '/v1/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ] as const) {
      for (const token of [null, 'wrong-token']) {
        const res = await call(s.url, method, path, method === 'POST' ? {} : undefined, token);
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('Unauthenticated');
        expect(res.headers.get('x-request-id')).toBeTruthy();
      }
    }
    expect(withoutRefusalAudits(await s.snapshot())).toEqual(before);
  });
});
