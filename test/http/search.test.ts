import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, publish } from '../support/client.ts';
import { SCOPED_TOKENS } from '../support/embedded.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

type Item = { namespace: string; package: string; version: string };
const refs = (items: Item[]) => items.map((v) => `${v.namespace}/${v.package}@${v.version}`);

describeForEachBackend('searching versions by blob and by metadata', (kind) => {
  let s: TestServer;
  const shared = content('shared', 2000);
  const other = content('other', 2000);

  beforeAll(async () => {
    s = await startTestServer(kind);
    // alpha: 5 versions of `app` with commit 9f1c, shared in 1.0.0, 1.0.2 and 1.0.4; one of `lib`.
    for (let i = 0; i < 5; i++) {
      const files = { 'bin/app': i % 2 === 0 ? shared : content(`app-${i}`, 100), 'README.txt': other };
      const published = await publish(s.url, {
        namespace: 'alpha',
        package: 'app',
        version: `1.0.${i}`,
        files,
        metadata: { commit: i < 4 ? '9f1c' : 'a0b1', pipeline: 'release' },
      });
      expect(published.status).toBe(200);
    }
    await publish(s.url, {
      namespace: 'alpha',
      package: 'lib',
      version: '2.0.0',
      files: { 'lib.so': shared },
      metadata: { commit: '9f1c' },
    });
    // beta holds the same blob and the same commit: an alpha-only caller must never see it.
    await publish(s.url, {
      namespace: 'beta',
      package: 'svc',
      version: '3.0.0',
      files: { 'svc.bin': shared },
      metadata: { commit: '9f1c' },
    });
    await s.whenIdle();
  }, 300_000);
  afterAll(async () => s?.close());

  it('finds every version holding a blob, across packages and namespaces, for a store admin', async () => {
    const res = await call(s.url, 'GET', `/v1/search?sha256=${sha256(shared)}`);

    expect(res.status).toBe(200);
    expect(refs(res.body.items)).toEqual([
      'alpha/app@1.0.0',
      'alpha/app@1.0.2',
      'alpha/app@1.0.4',
      'alpha/lib@2.0.0',
      'beta/svc@3.0.0',
    ]);
    expect(res.body.items[0].files.map((f: { name: string }) => f.name)).toContain('bin/app');
  });

  it('answers each scoped token only the versions of its own namespace', async () => {
    const path = `/v1/search?sha256=sha256:${sha256(shared)}`;
    const alpha = await call(s.url, 'GET', path, undefined, SCOPED_TOKENS.alphaReader);
    const beta = await call(s.url, 'GET', path, undefined, SCOPED_TOKENS.betaWriter);

    expect(refs(alpha.body.items)).toEqual([
      'alpha/app@1.0.0',
      'alpha/app@1.0.2',
      'alpha/app@1.0.4',
      'alpha/lib@2.0.0',
    ]);
    expect(refs(beta.body.items)).toEqual(['beta/svc@3.0.0']);
  });

  it('finds versions by an exact metadata value, newest first, page by page', async () => {
    const first = await call(s.url, 'GET', '/v1/search?namespace=alpha&meta.commit=9f1c&limit=2');
    const second = await call(
      s.url,
      'GET',
      `/v1/search?namespace=alpha&meta.commit=9f1c&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    const third = await call(
      s.url,
      'GET',
      `/v1/search?namespace=alpha&meta.commit=9f1c&limit=2&cursor=${encodeURIComponent(second.body.nextCursor)}`,
    );

    expect(refs(first.body.items)).toEqual(['alpha/lib@2.0.0', 'alpha/app@1.0.3']);
    expect(refs(second.body.items)).toEqual(['alpha/app@1.0.2', 'alpha/app@1.0.1']);
    expect(refs(third.body.items)).toEqual(['alpha/app@1.0.0']);
    expect(third.body.nextCursor ?? null).toBeNull();
    const exact = await call(s.url, 'GET', '/v1/search?namespace=alpha&meta.commit=9f1');
    expect(exact.body.items).toEqual([]);
  });

  it('refuses a metadata search in a namespace the caller cannot read, and reads nothing of it', async () => {
    const res = await call(
      s.url,
      'GET',
      '/v1/search?namespace=beta&meta.commit=9f1c',
      undefined,
      SCOPED_TOKENS.alphaReader,
    );

    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).not.toContain('svc');
  });

  it.each([
    ['no criterion', '/v1/search'],
    ['both forms', `/v1/search?sha256=${'a'.repeat(64)}&namespace=alpha&meta.commit=1`],
    ['a namespace without a key', '/v1/search?namespace=alpha'],
    ['two keys', '/v1/search?namespace=alpha&meta.commit=1&meta.pipeline=release'],
    ['an unknown parameter', `/v1/search?sha256=${'a'.repeat(64)}&colour=red`],
    ['a bad digest', '/v1/search?sha256=xyz'],
    ['a bad key', '/v1/search?namespace=alpha&meta.1bad=x'],
    ['a tampered cursor', `/v1/search?sha256=${'a'.repeat(64)}&cursor=abc.def`],
  ])('answers 400 to %s', async (_, path) => {
    const res = await call(s.url, 'GET', path);

    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
  });
});
