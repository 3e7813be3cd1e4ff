import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const outdir = mkdtempSync(join(tmpdir(), 'arca-cdk-out-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('npx cdk synth', () => {
  it('synthesizes both stacks offline, bundling the handlers with local esbuild', async () => {
    // Prepare: no AWS credentials may be used; the account comes from context.
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      CDK_DISABLE_VERSION_CHECK: '1',
    };
    // Act
    await promisify(execFile)(
      'npx',
      [
        'cdk',
        'synth',
        '--quiet',
        '--output',
        outdir,
        // The documented deploy command's context, nothing more: the CDN key pair is made in AWS.
        '-c',
        'account=111111111111',
        '-c',
        'region=us-east-1',
        '-c',
        'replicaRegion=us-west-2',
      ],
      { env, timeout: 110_000 },
    );
    // Assess
    expect(existsSync(join(outdir, 'Arca.template.json'))).toBe(true);
    expect(existsSync(join(outdir, 'ArcaReplica.template.json'))).toBe(true);
    const bundles = readdirSync(outdir).filter(
      (name) => name.startsWith('asset.') && existsSync(join(outdir, name, 'index.mjs')),
    );
    // api, scan, gc and the CDN key-pair handler (plus any CDK-provided handler assets).
    expect(bundles.length).toBeGreaterThanOrEqual(4);
    for (const bundle of bundles) {
      expect(existsSync(join(outdir, bundle, 'index.mjs.map'))).toBe(true);
      expect(readFileSync(join(outdir, bundle, 'index.mjs'), 'utf8')).toMatch(/createRequire/);
    }
  }, 120_000);
});
