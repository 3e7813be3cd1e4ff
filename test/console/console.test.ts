import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LoggedServer, startLoggedServer } from '../http/localServerHarness.ts';
import { call, publish, settled } from '../support/client.ts';
import { ADMIN_TOKEN } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';
import { launchChromium, screenshot } from './browser.ts';

const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
const XSS = '<script>window.__arcaXss = 1</script><img src=x onerror="window.__arcaXss = 2">';
const APP = content('console-app', 3000);

/** The server under test: embedded with its log lines kept, or the AWS backend on moto. */
interface ConsoleServer {
  readonly url: string;
  /** Every log line the server wrote (embedded; the AWS test server writes none). */
  readonly logs: readonly Record<string, unknown>[];
  whenIdle(): Promise<void>;
  close(): Promise<void>;
}

async function startConsoleServer(kind: 'embedded' | 'aws'): Promise<ConsoleServer> {
  if (kind === 'embedded') {
    const s: LoggedServer = await startLoggedServer();
    return {
      url: s.url,
      logs: s.logs,
      whenIdle: () => s.backend.scanQueue.whenIdle(),
      close: () => s.close(),
    };
  }
  const s: TestServer = await startTestServer('aws');
  return { url: s.url, logs: [], whenIdle: () => s.whenIdle(), close: () => s.close() };
}

describeForEachBackend('web console', (kind) => {
  let s: ConsoleServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requested: string[] = [];
  const shot = (name: string) => screenshot(page, `${kind}-${name}`);

  beforeAll(async () => {
    s = await startConsoleServer(kind);
    await publish(s.url, {
      namespace: 'web',
      package: 'site',
      version: '1.0.0',
      files: { 'app.bin': APP },
      metadata: { note: XSS },
    });
    await publish(s.url, {
      namespace: 'web',
      package: 'site',
      version: '2.0.0',
      files: { 'bad.com': EICAR },
    });
    await settled(s.url, '/v1/packages/web/site/versions/1.0.0');
    await settled(s.url, '/v1/packages/web/site/versions/2.0.0');
    await s.whenIdle();
    browser = await launchChromium();
    context = await browser.newContext({ acceptDownloads: true });
    page = await context.newPage();
    page.on('request', (r) => requested.push(r.url()));
    page.on('dialog', (d) => void d.accept());
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('serves the page with a strict CSP, no inline script, and little JavaScript', async () => {
    const res = await fetch(`${s.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/console\//);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/<style/i);
    const dir = join(process.cwd(), 'console');
    const js = readdirSync(dir).filter((f) => f.endsWith('.js'));
    const gzipped = gzipSync(Buffer.concat(js.map((f) => readFileSync(join(dir, f))))).length;
    expect(gzipped).toBeLessThanOrEqual(150 * 1024);
  });

  it('signs in with a pasted token and browses to a version, its files and metadata as text', async () => {
    await page.goto(`${s.url}/`);
    await page.locator('#signin').waitFor();
    await shot('sign-in');
    await page.fill('#signin input[name=token]', ADMIN_TOKEN);
    await page.click('#signin button[type=submit]');
    await page.locator('h1', { hasText: 'Namespaces' }).waitFor();
    await shot('namespaces');
    await page.fill('#jump input[name=namespace]', 'web');
    await page.fill('#jump input[name=package]', 'site');
    await page.click('#jump button[type=submit]');
    await page.locator('#versions').waitFor();
    await shot('package');
    await page.click('#versions a:text-is("1.0.0")');
    await page.locator('#files').waitFor();
    expect(await page.locator('#files').textContent()).toContain('app.bin');
    expect(await page.locator('#state').textContent()).toBe('available');
    expect(await page.locator('#metadata td').nth(1).textContent()).toBe(XSS);
    expect(await page.evaluate('window.__arcaXss')).toBeUndefined();
    expect(await page.locator('#metadata script, #metadata img').count()).toBe(0);
    await shot('version');
  });

  it('downloads a file with exactly its bytes', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('button.download[data-file="app.bin"]'),
    ]);
    const path = await download.path();
    expect(readFileSync(path)).toEqual(APP);
  });

  it('promotes it after confirmation, and the stage history shows the move', async () => {
    await page.fill('#promote input[name=stage]', 'prod');
    await page.click('#promote button[type=submit]');
    await page.locator('#action-result', { hasText: 'Promoted to prod' }).waitFor();
    expect(await page.locator('#stages').textContent()).toBe('prod');
    await page.click('.crumbs a:text-is("site")');
    const history = page.locator('table.history[data-stage="prod"]');
    await history.waitFor();
    expect(await history.locator('tbody td').first().textContent()).toBe('1.0.0');
    await shot('stage-history');
  });

  it('shows scan findings, and the API error verbatim when a promotion is refused', async () => {
    await page.click('#versions a:text-is("2.0.0")');
    await page.locator('#findings').waitFor();
    expect(await page.locator('#findings').textContent()).toContain('EICAR-Test-File');
    await page.fill('#promote input[name=stage]', 'prod');
    await page.click('#promote button[type=submit]');
    const refused = await call(s.url, 'POST', '/v1/packages/web/site/versions/2.0.0/promote', {
      stage: 'prod',
    });
    const verbatim = `${refused.status} ${refused.body.error.code}: ${refused.body.error.message}`;
    await page.locator('#action-result', { hasText: verbatim }).waitFor();
    await shot('findings');
  });

  it('shows the GC plan and the audit log with filters', async () => {
    await page.click('nav a:text-is("GC plan")');
    await page.locator('#gc-counts').waitFor();
    expect(await page.locator('#gc-counts').textContent()).toContain('tombstoneVersion');
    await shot('gc-plan');
    await page.click('nav a:text-is("Audit log")');
    await page.locator('#audit').waitFor();
    await page.fill('#audit-filter input[name=namespace]', 'web');
    await page.fill('#audit-filter input[name=action]', 'stage.promote');
    await page.click('#audit-filter button[type=submit]');
    // The filtered table replaces the unfiltered one: one promotion happened in `web`.
    // (A polled waitForFunction would be an eval, which the console's CSP refuses.)
    await page.locator('#audit tbody tr').nth(1).waitFor({ state: 'detached' });
    expect(await page.locator('#audit tbody tr').count()).toBe(1);
    expect(await page.locator('#audit tbody td').nth(2).textContent()).toBe('stage.promote');
    await shot('audit');
  });

  it('never puts the token in a URL, localStorage, a cookie or a log line', async () => {
    expect(requested.length).toBeGreaterThan(5);
    for (const url of requested) expect(url).not.toContain(ADMIN_TOKEN);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate("sessionStorage.getItem('arca.token')")).toBe(ADMIN_TOKEN);
    expect(JSON.stringify(s.logs)).not.toContain(ADMIN_TOKEN);
    if (kind === 'embedded') expect(s.logs.length).toBeGreaterThan(5);
  });

  if (kind === 'embedded') {
    it('paints a package page of 1,000 versions (measured, printed)', { timeout: 180_000 }, async () => {
      const file = { 'same.bin': content('perf') };
      for (let i = 0; i < 1000; i++)
        await publish(s.url, { namespace: 'perf', package: 'big', version: `1.0.${i}`, files: file });
      await s.whenIdle();
      const started = Date.now();
      await page.goto(`${s.url}/#/pkg/perf/big`);
      await page.locator('#versions tbody tr').nth(99).waitFor();
      const paintMs = Date.now() - started;
      process.stdout.write(
        `console: first meaningful paint of a package page with 1,000 versions: ${paintMs} ms\n`,
      );
      expect(await page.locator('#versions tbody tr').count()).toBe(100);
      await shot('package-1000');
    });
  }
});
