import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, createUpload, publish, settled, uploadAll } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

describeForEachBackend('concurrent publishing', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s?.close());

  it('lets exactly one of two sessions committing one version at once win, and serves the winner’s bytes', async () => {
    const contents = [content('first', 5000), content('second', 5000)];
    const sessions = await Promise.all(
      contents.map((data) => createUpload(s.url, { version: '1.0.0', files: { 'a.bin': data } })),
    );
    await Promise.all(sessions.map((created, i) => uploadAll(created, { 'a.bin': contents[i]! })));
    const commits = await Promise.all(
      sessions.map((c) => call(s.url, 'POST', `/v1/uploads/${c.body.uploadId}/commit`)),
    );
    expect(commits.map((c) => c.status).sort()).toEqual([200, 409]);
    const loser = commits.find((c) => c.status === 409)!;
    expect(loser.body.error.code).toBe('VersionExists');
    const winner = commits.findIndex((c) => c.status === 200);
    const v = await settled(s.url, '/v1/packages/demo/app/versions/1.0.0');
    expect(v.body.files[0].sha256).toBe(sha256(contents[winner]!));
    const { body } = await call(
      s.url,
      'GET',
      '/v1/packages/demo/app/versions/1.0.0/files/a.bin?redirect=false',
    );
    expect(sha256(Buffer.from(await (await fetch(body.url)).arrayBuffer()))).toBe(sha256(contents[winner]!));
  });

  it('lands 24 parallel publishes', async () => {
    const versions = Array.from({ length: 24 }, (_, i) => `2.0.${i}`);
    const results = await Promise.all(
      versions.map((version) =>
        publish(s.url, { package: 'parallel', version, files: { 'f.bin': content(version, 3000) } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(versions.map(() => 200));
    const listed = await call(s.url, 'GET', '/v1/packages/demo/parallel/versions?limit=100');
    expect(listed.body.items.map((v: { version: string }) => v.version).sort()).toEqual([...versions].sort());
    for (const version of versions) {
      expect((await settled(s.url, `/v1/packages/demo/parallel/versions/${version}`)).body.state).toBe(
        'available',
      );
    }
  });
});
