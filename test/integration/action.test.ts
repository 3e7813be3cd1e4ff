import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCli, CLI_DIST } from '../../scripts/buildCli.ts';
import { call } from '../support/client.ts';
import { ADMIN_TOKEN, type EmbeddedServer, startEmbeddedServer } from '../support/embedded.ts';
import { content } from '../support/fixtures.ts';

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

  it('installs the CLI from a tarball and publishes with its one command, exporting ARCA_URL for later steps', async () => {
    const githubEnv = join(work, 'github-env');
    await writeFile(githubEnv, '');
    await writeFile(join(work, 'app.bin'), content('from-the-action', 5000));
    const inputs = {
      tarball,
      url: server.url,
      token: ADMIN_TOKEN,
      'oidc-audience': 'arca',
      command: 'publish demo/action@1.0.0 app.bin --wait',
      version: '',
    };
    const prefix = join(work, 'prefix');
    const base = {
      PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: work,
      GITHUB_ENV: githubEnv,
      npm_config_prefix: prefix,
      npm_config_offline: 'true',
    };
    for (const step of action.runs.steps) {
      const context = { inputs, env: {} };
      if (step.if && evaluate(step.if, context) === '') continue;
      const env = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, substitute(v, context)]));
      await run(step.shell, ['-c', step.run], { cwd: work, env: { ...base, ...env } });
    }
    expect(await readFile(githubEnv, 'utf8')).toContain(`ARCA_URL=${server.url}\n`);
    const v = await call(server.url, 'GET', '/v1/packages/demo/action/versions/1.0.0');
    expect(v.body.state).toBe('available');
  });
});
