import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, publishOk, startStore, type TestStore } from './harness.ts';

/**
 * Promotion, leases, GC and audit come with a later issue. Each suite runs once the server has its
 * route: a probe that answers anything but the router's own 404 ("no route for …") means it does.
 */
async function serverHasRoute(store: TestStore, method: string, path: string): Promise<boolean> {
  const res = await fetch(`${store.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${store.token}`, 'content-type': 'application/json' },
    body: method === 'GET' ? undefined : '{}',
  });
  if (res.status !== 404) return true;
  const body = (await res.json()) as { error?: { message?: string } };
  return !/^no route for|is not supported on/.test(body.error?.message ?? '');
}

const probe = await startStore();
const has = {
  promote: await serverHasRoute(probe, 'POST', '/v1/packages/demo/probe/versions/1/promote'),
  leases: await serverHasRoute(probe, 'POST', '/v1/leases'),
  gc: await serverHasRoute(probe, 'POST', '/v1/gc/plan'),
  audit: await serverHasRoute(probe, 'GET', '/v1/audit'),
};
await probe.close();

let store: TestStore;
let input: Workdir;

beforeAll(async () => {
  store = await startStore();
  input = await workdir();
  await publishOk(store, 'demo/web@1.0.0', [await input.file('web-1.tar.gz', 'one')]);
  await publishOk(store, 'demo/web@1.1.0', [await input.file('web-2.tar.gz', 'two')]);
});

afterAll(async () => {
  await store.close();
  await input.remove();
});

describe.skipIf(!has.promote)('arca promote', () => {
  it('points a stage at a version, which show and fetch then resolve', async () => {
    const promoted = await arca(store, ['promote', 'demo/web@1.0.0', '--to', 'staging', '--json']);
    expect(promoted.code).toBe(0);
    expect(JSON.parse(promoted.stdout)).toMatchObject({ stage: 'staging', version: '1.0.0' });

    const shown = await arca(store, ['show', 'demo/web@staging', '--json']);
    const fetched = await arca(store, ['fetch', 'demo/web@staging', '-o', `${input.path}/staging`, '--json']);

    expect(JSON.parse(shown.stdout).version).toBe('1.0.0');
    expect(fetched.code).toBe(0);
    expect(JSON.parse(fetched.stdout).files[0].name).toBe('web-1.tar.gz');
  });

  it('prints the version the stage pointed at before', async () => {
    expect((await arca(store, ['promote', 'demo/web@1.0.0', '--to', 'prod'])).code).toBe(0);

    const result = await arca(store, ['promote', 'demo/web@1.1.0', '--to', 'prod']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('demo/web@prod → 1.1.0 (was 1.0.0)');
  });

  it('exits 2 for a stage that points nowhere', async () => {
    const result = await arca(store, ['fetch', 'demo/web@nowhere', '-o', input.path]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no version or stage named nowhere');
  });
});

describe.skipIf(!has.leases)('arca lease', () => {
  it('releases the lease and exits with the command’s code when the command fails', async () => {
    const command = 'console.log(process.env.ARCA_LEASE_ID); process.exit(7)';

    const result = await arca(store, [
      'lease',
      'demo/web@1.0.0',
      '--ttl',
      '2m',
      '--',
      process.execPath,
      '-e',
      command,
    ]);

    expect(result.code).toBe(7);
    const leaseId = result.stdout.trim();
    const release = await fetch(`${store.url}/v1/leases/${leaseId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${store.token}` },
    });
    expect(release.status).toBe(404);
  });

  it('holds the lease while the command runs', async () => {
    const show = [process.execPath, 'bin/arca.js', 'show', 'demo/web@1.1.0', '--json'];

    const result = await arca(store, ['lease', 'demo/web@1.1.0', '--', ...show]);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).protected).toBe(true);
  });

  it('exits 2 without running the command when the version does not exist', async () => {
    const result = await arca(store, [
      'lease',
      'demo/web@9.9.9',
      '--',
      process.execPath,
      '-e',
      'console.log("ran")',
    ]);

    expect(result.code).toBe(2);
    expect(result.stdout).not.toContain('ran');
  });
});

describe.skipIf(!has.gc)('arca gc', () => {
  it('plans without deleting, then runs', async () => {
    const plan = await arca(store, ['gc', 'plan', '--json']);
    const run = await arca(store, ['gc', 'run', '--json']);

    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toHaveProperty('actions');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('deleted');
  });

  it('runs within a time budget and says why it stopped; a budget on a plan is a usage error', async () => {
    const run = await arca(store, ['gc', 'run', '--budget', '30', '--json']);
    const plan = await arca(store, ['gc', 'plan', '--budget', '30']);
    const zero = await arca(store, ['gc', 'run', '--budget', '0']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ stoppedBy: 'done', nextCursor: null });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('--budget applies to `arca gc run`');
    expect(zero.code).toBe(1);
  });
});

describe.skipIf(!has.audit)('arca audit', () => {
  it('lists the commit of a published version', async () => {
    const result = await arca(store, ['audit', '--namespace', 'demo', '--all', '--json']);

    expect(result.code).toBe(0);
    const events = JSON.parse(result.stdout) as { action: string; target: string }[];
    expect(events).toContainEqual(
      expect.objectContaining({ action: 'upload.commit', target: 'demo/web@1.0.0' }),
    );
  });
});
