import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedBackend } from '../../functions/local/embeddedBackend.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { call, publish, settled } from '../support/client.ts';
import { SCOPED_TOKENS, testAuthenticator } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';
import { parseExposition, promtoolCheck, type Sample, scrape, total } from '../support/prometheus.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

describeForEachBackend('/metrics', (kind) => {
  let s: TestServer;
  const version = (v: string) => `/v1/packages/obs/svc/versions/${v}`;
  const samples = async (): Promise<Sample[]> => {
    await s.whenIdle();
    const res = await scrape(s.url);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };

  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s?.close());

  it('answers 401 without a token and 403 to a token scoped to some namespaces', async () => {
    expect((await scrape(s.url, null)).status).toBe(401);
    expect((await scrape(s.url, 'not-a-token')).status).toBe(401);
    const scoped = await scrape(s.url, SCOPED_TOKENS.alphaReader);
    expect(scoped.status).toBe(403);
    expect(await scoped.text()).not.toContain('arca_');
  });

  it('moves each counter by exactly what a publish, fetch, promote and GC did', async () => {
    const before = await samples();
    const delta = async (name: string, labels: Record<string, string> = {}) =>
      total(await samples(), name, labels) - total(before, name, labels);

    expect(
      (
        await publish(s.url, {
          namespace: 'obs',
          package: 'svc',
          version: '1',
          files: { 'a.bin': content('m1'), 'b.bin': content('m2') },
        })
      ).status,
    ).toBe(200);
    expect((await settled(s.url, version('1'))).body.state).toBe('available');
    expect((await call(s.url, 'GET', `${version('1')}/files/a.bin?redirect=false`)).status).toBe(200);
    expect((await call(s.url, 'GET', `${version('1')}/files/none.bin?redirect=false`)).status).toBe(404);
    expect((await call(s.url, 'POST', `${version('1')}/promote`, { stage: 'prod' })).status).toBe(200);
    expect((await call(s.url, 'POST', '/v1/gc/run', {})).status).toBe(200);
    expect((await call(s.url, 'GET', version('1'), undefined, null)).status).toBe(401);
    expect((await call(s.url, 'POST', '/v1/gc/run', {}, SCOPED_TOKENS.alphaReader)).status).toBe(403);

    expect(await delta('arca_publish_total', { outcome: 'success' })).toBe(1);
    expect(await delta('arca_publish_total', { outcome: 'failure' })).toBe(0);
    expect(await delta('arca_scans_total', { verdict: 'verified' })).toBe(2);
    expect(await delta('arca_versions_available_total')).toBe(1);
    expect(await delta('arca_versions_signed_total')).toBe(1);
    expect(await delta('arca_fetch_total', { outcome: 'success' })).toBe(1);
    expect(await delta('arca_fetch_total', { outcome: 'failure', code: 'NotFound' })).toBe(1);
    expect(await delta('arca_fetch_duration_seconds_count')).toBe(2);
    expect(await delta('arca_promotions_total', { outcome: 'success' })).toBe(1);
    expect(await delta('arca_time_to_promote_seconds_count', { stage: 'prod' })).toBe(1);
    expect(await delta('arca_gc_runs_total', { outcome: 'success' })).toBe(1);
    expect(
      await delta('arca_auth_denials_total', {
        status: '401',
        route: '/v1/packages/:ns/:pkg/versions/:version',
      }),
    ).toBe(1);
    expect(await delta('arca_auth_denials_total', { status: '403', route: '/v1/gc/run' })).toBe(1);
    const commit = { route: '/v1/uploads/:uploadId/commit', method: 'POST', status: '200' };
    expect(await delta('arca_http_requests_total', commit)).toBe(1);
    expect(await delta('arca_http_request_duration_seconds_count', commit)).toBe(1);
  });

  it('counts a failed commit under its error code', async () => {
    const before = await samples();
    expect((await call(s.url, 'POST', '/v1/uploads/01J00000000000000000000000/commit')).status).toBe(404);
    const after = await samples();
    const failed = { outcome: 'failure', code: 'NotFound' };
    expect(total(after, 'arca_publish_total', failed) - total(before, 'arca_publish_total', failed)).toBe(1);
  });

  // Store gauges are read from the SQLite index; the AWS backend's come from CloudWatch (S3, DynamoDB).
  if (kind === 'embedded') {
    it('reports the stored state: blobs and bytes by state, coverage and signed ratio', async () => {
      const now = await samples();
      expect(total(now, 'arca_blobs', { state: 'available' })).toBe(2);
      expect(total(now, 'arca_stored_bytes', { state: 'available' })).toBe(
        content('m1').length + content('m2').length,
      );
      expect(total(now, 'arca_versions', { state: 'signed' })).toBe(1);
      expect(total(now, 'arca_signed_versions_ratio')).toBe(1);
      expect(total(now, 'arca_scan_coverage_ratio')).toBe(1);
    });
  }

  it('passes promtool check metrics', async () => {
    const res = await scrape(s.url);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { status, output } = promtoolCheck(await res.text());
    expect(output).toBe('');
    expect(status).toBe(0);
  });
});

describe('/metrics with ARCA_METRICS_TOKEN', () => {
  let server: LocalServer;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arca-metrics-'));
    server = await startLocalServer({
      port: 0,
      authenticate: testAuthenticator(),
      log: () => {},
      metricsToken: 'scrape-only-token',
      backend: (url) => createEmbeddedBackend({ dataDir, publicUrl: url }),
    });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lets the metrics token scrape, and nothing else', async () => {
    expect((await scrape(server.url, 'scrape-only-token')).status).toBe(200);
    expect((await call(server.url, 'GET', '/v1/audit', undefined, 'scrape-only-token')).status).toBe(401);
    expect((await scrape(server.url, 'scrape-only-tokeN')).status).toBe(401);
  });
});
