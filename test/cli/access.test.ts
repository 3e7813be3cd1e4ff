import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, startStore, type TestStore } from './harness.ts';

let store: TestStore;
let input: Workdir;
let file: string;

beforeAll(async () => {
  store = await startStore();
  input = await workdir();
  file = await input.file('app.txt', 'app\n');
});

afterAll(async () => {
  await store.close();
  await input.remove();
});

/** Runs arca as the bearer of `token` instead of the admin. */
const as = (token: string, args: readonly string[]) => arca(store, args, { ARCA_TOKEN: token });

/** Mints a token as the admin (or `by`) and returns its secret and id. */
async function mint(name: string, roles: readonly string[], by = store.token) {
  const result = await as(by, ['token', 'create', name, ...roles.flatMap((r) => ['--role', r]), '--json']);
  if (result.code !== 0) throw new Error(`token create exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as { id: string; token: string; roles: Record<string, string[]> };
}

describe('arca token', () => {
  it('creates a token whose secret, printed once, publishes; lists it without the secret; revokes it', async () => {
    const created = await arca(store, ['token', 'create', 'ci-demo', '--role', 'demo=write', '--ttl', '30d']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^arca_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('shown once');
    const id = secret.split('_')[1]!;

    const published = await as(secret, ['publish', 'demo/scoped@1.0.0', file, '--wait']);
    expect(published.code, published.stderr).toBe(0);

    const listed = await arca(store, ['token', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}  ci-demo\\s+demo=write  expires \\S+  last used `, 'm'));
    expect(listed.stdout).not.toContain(secret.split('_')[2]);

    const revoked = await arca(store, ['token', 'revoke', id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked token ${id}`);

    const refused = await as(secret, ['publish', 'demo/scoped@2.0.0', file]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('Unauthenticated');
    expect((await arca(store, ['token', 'list'])).stdout).not.toContain(id);
  });

  it('prints the whole API answer with --json, the secret included', async () => {
    const created = await mint('cd-readonly', ['demo=read', 'web=read,read']);

    expect(created.token).toMatch(/^arca_/);
    expect(created.roles).toEqual({ demo: ['read'], web: ['read'] });
    expect(Object.keys(created).sort()).toEqual(
      ['createdAt', 'createdBy', 'expiresAt', 'id', 'name', 'roles', 'token'].sort(),
    );
  });

  it('lets a namespace admin mint CI tokens in its namespace only', async () => {
    const owner = await mint('demo-owner', ['demo=admin']);

    const inside = await as(owner.token, ['token', 'create', 'ci', '--role', 'demo=write,promote']);
    const outside = await as(owner.token, ['token', 'create', 'ci', '--role', 'web=write']);

    expect(inside.code, inside.stderr).toBe(0);
    expect(outside.code).toBe(5);
    expect(outside.stderr).toContain('Forbidden');
  });

  it.each([
    ['no --role', ['ci']],
    ['a --role without =', ['ci', '--role', 'demo']],
    ['a --role without roles', ['ci', '--role', 'demo=']],
    ['an empty role in the list', ['ci', '--role', 'demo=read,,write']],
    ['an unknown role', ['ci', '--role', 'demo=owner']],
    ['an invalid namespace', ['ci', '--role', 'Demo NS=read']],
    ['a --ttl under a minute', ['ci', '--role', 'demo=read', '--ttl', '30s']],
    ['a --ttl over a year', ['ci', '--role', 'demo=read', '--ttl', '366d']],
    ['a --ttl that is no duration', ['ci', '--role', 'demo=read', '--ttl', 'soon']],
    ['no name', ['--role', 'demo=read']],
  ])('exits 1 with a usage error for %s', async (_, args) => {
    const result = await arca(store, ['token', 'create', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('See arca token --help');
  });

  it('exits 1 when revoke is given a secret instead of an id, before sending it anywhere', async () => {
    const result = await arca(store, ['token', 'revoke', `arca_${'0'.repeat(26)}_${'a'.repeat(43)}`]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not the secret');
  });

  it('exits 2 when revoking a token that does not exist', async () => {
    const result = await arca(store, ['token', 'revoke', '01JD8Z3QK7V6M2W4X9Y5T1R0SA']);

    expect(result.code).toBe(2);
  });
});

describe('arca whoami', () => {
  it('shows the admin as a store admin', async () => {
    const result = await arca(store, ['whoami']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('admin  (admin)\nstore admin: yes\n');
  });

  it('shows a scoped token with its roles per namespace, and the same as JSON', async () => {
    const { id, token } = await mint('whoami-probe', ['demo=write,promote', 'web=read']);

    const text = await as(token, ['whoami']);
    const json = await as(token, ['whoami', '--json']);

    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      `token:${id}  (token)\nstore admin: no\nroles:\n  demo  write, promote\n  web   read\n`,
    );
    expect(JSON.parse(json.stdout)).toEqual({
      id: `token:${id}`,
      kind: 'token',
      admin: false,
      roles: { demo: ['write', 'promote'], web: ['read'] },
      claims: {},
    });
  });

  it('exits 5 for a token the store does not know', async () => {
    const result = await as('arca_nope', ['whoami']);

    expect(result.code).toBe(5);
  });
});
