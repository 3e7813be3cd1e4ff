import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSynth } from './support.ts';

/**
 * cfn-lint (installed on this machine and in CI) on the synthesized templates: the CDK's own schema
 * check passes templates CloudFormation still rejects (a property combination, a bad intrinsic).
 */
describe('cfn-lint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-cfn-lint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['the default synth', {}],
    [
      'KMS, RTC, index replica, custom domain',
      {
        encryption: 'KMS',
        replicationTimeControl: 'true',
        replicateIndex: 'true',
        githubRepository: 'acme/widgets',
        cdnDomainNames: 'dl.example.com',
        cdnCertificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/abc',
      },
    ],
  ])('reports no error on %s', (label, extra) => {
    const synth = defaultSynth(extra);
    const files = [synth.template, synth.replicaTemplate].map((template, i) => {
      const file = join(dir, `${label.replace(/\W+/g, '-')}-${i}.json`);
      writeFileSync(file, JSON.stringify(template.toJSON()));
      return file;
    });
    const run = spawnSync('cfn-lint', ['--format', 'parseable', ...files], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    // cfn-lint's exit code is a bit mask: 2 is "errors found" (4 warnings, 8 informational).
    const errors = run.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
    expect(run.status! & 2).toBe(0);
  });

  it('is the cfn-lint installed on this machine', () => {
    expect(execFileSync('cfn-lint', ['--version'], { encoding: 'utf8' })).toMatch(/cfn-lint \d/);
  });
});
