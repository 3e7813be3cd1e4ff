import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, CLI_DIST } from '../../scripts/buildCli.ts';
import { ADMIN_TOKEN, type EmbeddedServer, startEmbeddedServer } from '../support/embedded.ts';
import { content, sha256 } from '../support/fixtures.ts';

const run = promisify(execFile);

/**
 * The CLI as a user outside this repository gets it: built, packed, installed from the tarball into
 * an empty prefix with no network, and run with only that prefix and Node on PATH.
 */
describe('the standalone CLI package', () => {
  let work: string;
  let prefix: string;
  let server: EmbeddedServer;
  let inputs: string[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'arca-cli-package-'));
    const built = await buildCli();
    inputs = Object.keys(built.metafile.inputs);
    const packed = await run('npm', ['pack', CLI_DIST, '--pack-destination', work], { cwd: work });
    const tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
    prefix = join(work, 'prefix');
    await run(
      'npm',
      ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
      {
        cwd: work,
      },
    );
    server = await startEmbeddedServer();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  /** `arca …` with PATH = the prefix's bin and Node's own directory, nothing else. */
  const arca = (args: string[], cwd = work) =>
    run('arca', args, {
      cwd,
      env: {
        PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}`,
        HOME: work,
        ARCA_URL: server.url,
        ARCA_TOKEN: ADMIN_TOKEN,
      },
    });

  it('bundles nothing native, no tsx and nothing of the embedded backend', () => {
    expect(inputs.filter((i) => /better-sqlite3|node_modules\/tsx\/|adapters\/embedded/.test(i))).toEqual([]);
  });

  it('prints the version of the repository it was built from', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect((await arca(['--version'])).stdout).toBe(`arca ${version}\n`);
  });

  it('publishes and fetches against a store, byte-identical, from an install that has only the tarball', async () => {
    const data = content('from-the-package', 100_000);
    await writeFile(join(work, 'app.bin'), data);
    const published = await arca(['publish', 'demo/packaged@1.0.0', 'app.bin', '--wait']);
    expect(published.stdout).toContain('demo/packaged@1.0.0');
    await arca(['fetch', 'demo/packaged@1.0.0', '-o', join(work, 'out')]);
    expect(sha256(await readFile(join(work, 'out', 'app.bin')))).toBe(sha256(data));
  });
});
