import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSynth, resourcesOf, type SynthesizedArca, synthArca } from './support.ts';

const OSV = 's3://arca-osv-db/osv/all.zip';

/** A `docker` first on PATH that leaves a mark if anything runs it: synth must not. */
const fakeDockerDir = mkdtempSync(join(tmpdir(), 'arca-no-docker-'));
const dockerRan = join(fakeDockerDir, 'docker-ran');
const path = process.env.PATH;

let arca: SynthesizedArca;
beforeAll(() => {
  writeFileSync(join(fakeDockerDir, 'docker'), `#!/bin/sh\necho "$@" >> ${dockerRan}\nexit 1\n`);
  chmodSync(join(fakeDockerDir, 'docker'), 0o755);
  process.env.PATH = `${fakeDockerDir}:${path}`;
  arca = synthArca({ clamav: 'true', osvDatabase: OSV });
});
afterAll(() => {
  process.env.PATH = path;
});

const functionNamed = (description: RegExp) => {
  const found = resourcesOf(arca.template, 'AWS::Lambda::Function').find(([, r]) =>
    description.test(String(r.Properties.Description)),
  );
  if (!found) throw new Error(`no function described ${description}`);
  return found;
};
const environment = (description: RegExp) =>
  (functionNamed(description)[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;

/** Every statement of the policies attached to the role of the function described so. */
const statementsOf = (description: RegExp) => {
  const role = (functionNamed(description)[1].Properties.Role as { 'Fn::GetAtt': [string, string] })[
    'Fn::GetAtt'
  ][0];
  return resourcesOf(arca.template, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(role))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
};

describe('ClamAV on AWS (clamav=true)', () => {
  it('runs the scan as a container image with clamd, reading its definitions from a bucket', () => {
    const [, scan] = functionNamed(/^Arca scan:/);
    expect(scan.Properties).toMatchObject({
      PackageType: 'Image',
      ImageConfig: { Command: ['clamav.scan'] },
      Architectures: ['arm64'],
      MemorySize: 3008,
      EphemeralStorage: { Size: 2048 },
    });
    const definitions = resourcesOf(arca.template, 'AWS::S3::Bucket').find(([id]) =>
      /ClamavDefinitions/.test(id),
    );
    expect(definitions).toBeDefined();
    expect(environment(/^Arca scan:/).ARCA_CLAMAV_DEFINITIONS_BUCKET).toEqual({ Ref: definitions![0] });
    const reads = statementsOf(/^Arca scan:/).filter((s) =>
      JSON.stringify(s.Resource).includes(definitions![0]),
    );
    expect(reads.flatMap((s) => [s.Action].flat()).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('refreshes the definitions with freshclam on a schedule, writing only its own bucket', () => {
    const [refreshId, refresh] = functionNamed(/freshclam/);
    expect(refresh.Properties).toMatchObject({
      PackageType: 'Image',
      ImageConfig: { Command: ['clamav.refresh'] },
    });
    arca.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [refreshId, 'Arn'] } })],
    });
    const writes = statementsOf(/freshclam/).filter((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0]!.Resource)).toMatch(/ClamavDefinitions/);
  });

  it('stages the image context at synth without running Docker, narrowed to what the Dockerfile copies', () => {
    const assembly = arca.app.synth();
    expect(existsSync(dockerRan)).toBe(false);
    const manifestFile = join(assembly.directory, `${arca.primary.artifactId}.assets.json`);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    const images = Object.values(
      manifest.dockerImages as Record<string, { source: Record<string, unknown> }>,
    );
    // One image for both functions: they differ only in the command.
    expect(images.map((i) => i.source.dockerFile)).toEqual(['infra/clamav/Dockerfile']);
    expect(images.map((i) => i.source.platform)).toEqual(['linux/arm64']);
    const context = join(assembly.directory, String(images[0]!.source.directory));
    expect(readdirSync(context).sort()).toEqual(['functions', 'infra', 'package-lock.json', 'package.json']);
    expect(readdirSync(join(context, 'infra'))).toEqual(['clamav']);
  });
});

describe('the OSV database on AWS (osvDatabase)', () => {
  it('lets scan and api read that one object, and names it in ARCA_OSV_DB', () => {
    for (const fn of [/^Arca scan:/, /^Arca API:/]) {
      expect(environment(fn).ARCA_OSV_DB).toBe(OSV);
      const reads = statementsOf(fn).filter((s) => JSON.stringify(s.Resource).includes('arca-osv-db'));
      expect(reads.length).toBeGreaterThan(0);
      for (const statement of reads) {
        expect(statement.Action).toBe('s3:GetObject');
        // That one object: no other key of the operator's bucket, no wildcard.
        const named = [statement.Resource].flat().filter((r) => JSON.stringify(r).includes('arca-osv-db'));
        expect(named).toEqual(['arn:aws:s3:::arca-osv-db/osv/all.zip']);
      }
    }
  });

  it('re-matches kept SBOMs on a schedule', () => {
    const [rematchId] = functionNamed(/^Arca OSV re-match/);
    expect(environment(/^Arca OSV re-match/)).toMatchObject({ ARCA_OSV_DB: OSV });
    arca.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [rematchId, 'Arn'] } })],
    });
  });

  it('refuses a database that is not an s3:// zip location', () => {
    expect(() => synthArca({ osvDatabase: '/var/lib/osv' })).toThrow(
      /osvDatabase must be s3:\/\/bucket\/key.zip/,
    );
  });
});

describe('by default', () => {
  it('builds no ClamAV image, no definitions bucket and no re-match', () => {
    const { template } = defaultSynth();
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    expect(functions.filter(([, r]) => r.Properties.PackageType === 'Image')).toEqual([]);
    expect(functions.filter(([, r]) => /re-match/.test(String(r.Properties.Description)))).toEqual([]);
    expect(resourcesOf(template, 'AWS::S3::Bucket').filter(([id]) => /Clamav/.test(id))).toEqual([]);
  });
});
