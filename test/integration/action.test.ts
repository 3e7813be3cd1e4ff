import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCli, CLI_DIST } from '../../scripts/buildCli.ts';
import { call } from '../support/client.ts';
import { ADMIN_TOKEN, type EmbeddedServer, startEmbeddedServer } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';
import { TestIssuer } from '../support/oidcIssuer.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

interface Step {
  readonly name: string;
  readonly if?: string;
  readonly shell: string;
  readonly env: Record<string, string>;
  readonly run: string;
}
interface Action {
  readonly inputs: Record<string, { description: string; default?: string }>;
  readonly runs: { readonly using: string; readonly steps: readonly Step[] };
}

const action = parse(await readFile(join(root, 'action.yml'), 'utf8')) as Action;

/** The few expressions the action uses: `inputs.x`, `github.action_path`, `env.X`, `a || b`, `a != ''`. */
function evaluate(
  expression: string,
  context: { inputs: Record<string, string>; env: Record<string, string> },
): string {
  const term = (t: string): string => {
    const s = t.trim();
    if (s.startsWith('inputs.')) return context.inputs[s.slice(7)] ?? '';
    if (s === 'github.action_path') return root;
    if (s.startsWith('env.')) return context.env[s.slice(4)] ?? '';
    if (s === "''") return '';
    throw new Error(`expression not understood: ${s}`);
  };
  const inequality = /^(.*)!=(.*)$/.exec(expression);
  if (inequality) return term(inequality[1]!) !== term(inequality[2]!) ? 'true' : '';
  return (
    expression
      .split('||')
      .map(term)
      .find((v) => v !== '') ?? ''
  );
}
const substitute = (value: string, context: Parameters<typeof evaluate>[1]) =>
  value.replace(/\$\{\{(.*?)\}\}/g, (_, e: string) => evaluate(e, context));

describe('the GitHub Action (action.yml)', () => {
  let work: string;
  let server: EmbeddedServer;
  let tarball: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'arca-action-'));
    await buildCli();
    const packed = await run('npm', ['pack', CLI_DIST, '--pack-destination', work], { cwd: work });
    tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
    server = await startEmbeddedServer();
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('is a composite action whose every input is documented in docs/ci.md', async () => {
    expect(action.runs.using).toBe('composite');
    const docs = await readFile(join(root, 'docs/ci.md'), 'utf8');
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description.length, name).toBeGreaterThan(20);
      expect(docs, `docs/ci.md documents input ${name}`).toContain(`| \`${name}\``);
    }
  });

  it('never interpolates an input into a script: inputs reach the shell through env only', () => {
    for (const step of action.runs.steps) expect(step.run, step.name).not.toMatch(/\$\{\{/);
  });

  /** Runs the action's steps as the runner would: `if:` evaluated, env substituted, each step in bash. */
  async function runAction(
    inputs: Record<string, string>,
    githubEnv: string,
    extraEnv: Record<string, string> = {},
  ) {
    const prefix = join(work, 'prefix');
    const base = {
      PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: work,
      GITHUB_ENV: githubEnv,
      npm_config_prefix: prefix,
      npm_config_offline: 'true',
      ...extraEnv,
    };
    for (const step of action.runs.steps) {
      const context = {
        inputs: { version: '', tarball, token: '', 'oidc-audience': 'arca', ...inputs },
        env: {},
      };
      if (step.if && evaluate(step.if, context) === '') continue;
      const env = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, substitute(v, context)]));
      await run(step.shell, ['-c', step.run], { cwd: work, env: { ...base, ...env } });
    }
  }

  it('installs the CLI from a tarball and publishes with its one command, exporting ARCA_URL for later steps', async () => {
    const githubEnv = join(work, 'github-env');
    await writeFile(githubEnv, '');
    await writeFile(join(work, 'app.bin'), content('from-the-action', 5000));
    await runAction(
      { url: server.url, token: ADMIN_TOKEN, command: 'publish demo/action@1.0.0 app.bin --wait' },
      githubEnv,
    );
    expect(await readFile(githubEnv, 'utf8')).toContain(`ARCA_URL=${server.url}\n`);
    const v = await call(server.url, 'GET', '/v1/packages/demo/action/versions/1.0.0');
    expect(v.body.state).toBe('available');
  });

  describe("keyless, with the job's OIDC token", () => {
    let issuer: TestIssuer;
    let trusting: EmbeddedServer;
    let tokenEndpoint: Server;
    let asked: { authorization?: string; audience?: string | null }[];

    beforeAll(async () => {
      issuer = await TestIssuer.start();
      trusting = await startEmbeddedServer({}, { oidcIssuers: [issuer.url] });
      const trust = [
        { issuer: issuer.url, audience: 'arca', claims: { repository: 'org/payments' }, roles: ['write'] },
      ];
      expect((await call(trusting.url, 'PUT', '/v1/namespaces/payments/policy', { trust })).status).toBe(200);
      // GitHub's token service as a runner sees it: the runtime bearer in, the job's JWT out.
      asked = [];
      tokenEndpoint = createServer(async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://runner');
        asked.push({ authorization: req.headers.authorization, audience: url.searchParams.get('audience') });
        const ok = req.headers.authorization === 'Bearer runtime-token';
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            ok ? { value: await issuer.sign({ workflow: 'ship' }) } : { message: 'bad runtime token' },
          ),
        );
      });
      await new Promise<void>((resolve) => tokenEndpoint.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      tokenEndpoint?.close();
      await trusting?.close();
      await issuer?.close();
    });

    it('publishes with no token at all: arca asks the runner for the OIDC token the store trusts', async () => {
      const githubEnv = join(work, 'github-env-oidc');
      await writeFile(githubEnv, '');
      await writeFile(join(work, 'keyless.bin'), content('keyless', 3000));
      const { port } = tokenEndpoint.address() as AddressInfo;
      await runAction(
        { url: trusting.url, command: 'publish payments/app@1.0.0 keyless.bin --wait' },
        githubEnv,
        {
          GITHUB_ACTIONS: 'true',
          ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token',
        },
      );
      expect(asked[0]).toEqual({ authorization: 'Bearer runtime-token', audience: 'arca' });
      const v = await call(trusting.url, 'GET', '/v1/packages/payments/app/versions/1.0.0');
      expect(v.body.state).toBe('available');
      expect(v.body.publisher).toMatchObject({
        kind: 'oidc',
        claims: { repository: 'org/payments', workflow: 'ship' },
      });
    });
  });
});
