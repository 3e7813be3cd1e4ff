import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OsvDatabaseFiles } from '../../functions/adapters/osvDatabase.ts';
import { cvss3BaseScore } from '../../functions/core/vulns/cvss.ts';
import { affects, OsvIndex, type OsvRecord } from '../../functions/core/vulns/osv.ts';
import { componentOf, type Ecosystem } from '../../functions/core/vulns/purl.ts';
import { componentsOf } from '../../functions/core/vulns/sbomComponents.ts';
import { compareVersions } from '../../functions/core/vulns/versions.ts';
import { zip } from '../support/archives.ts';

const DB = 'test/fixtures/osv/db';
const sbom = (name: string) => JSON.parse(readFileSync(`test/fixtures/sbom/${name}`, 'utf8')) as unknown;

describe('version order per ecosystem', () => {
  it.each<[Ecosystem, string, string]>([
    // SemVer: pre-releases sort before their release; build metadata is ignored.
    ['npm', '4.17.20', '4.17.21'],
    ['npm', '1.0.0-alpha', '1.0.0-alpha.1'],
    ['npm', '1.0.0-alpha.beta', '1.0.0-beta'],
    ['npm', '1.0.0-beta.2', '1.0.0-beta.11'],
    ['npm', '1.0.0-rc.1', '1.0.0'],
    ['crates.io', '1.20.1', '1.20.3'],
    ['Go', 'v0.0.0-20220412020605-290c469a71a5', '0.0.0-20220906165146-f3363e06e74c'],
    ['Go', '0.0.0-20220906165146-f3363e06e74c', 'v0.1.0'],
    // PEP 440.
    ['PyPI', '2.28.0', '2.31.0'],
    ['PyPI', '1.0.dev0', '1.0a1'],
    ['PyPI', '1.0a1', '1.0b1'],
    ['PyPI', '1.0b2', '1.0rc1'],
    ['PyPI', '1.0rc1', '1.0'],
    ['PyPI', '1.0', '1.0.post1'],
    ['PyPI', '1.0.post1.dev1', '1.0.post1'],
    ['PyPI', '1.0', '1.0+local.1'],
    ['PyPI', '1.0+abc', '1.0+1'],
    ['PyPI', '1.9', '1.10'],
    ['PyPI', '2.0', '1!1.0'],
    // Maven ComparableVersion.
    ['Maven', '2.12.6', '2.12.6.1'],
    ['Maven', '2.12.6.1', '2.13.0'],
    ['Maven', '2.13.2', '2.13.2.1'],
    ['Maven', '1.0-alpha-1', '1.0-beta'],
    ['Maven', '1.0-beta', '1.0-rc1'],
    ['Maven', '1.0-rc1', '1.0-SNAPSHOT'],
    ['Maven', '1.0-SNAPSHOT', '1.0'],
    ['Maven', '1.0', '1.0-sp1'],
    ['Maven', '1.0-sp1', '1.0.1'],
    ['Maven', '1.0a1', '1.0'],
    ['Maven', '1.9', '1.10'],
  ])('%s: %s < %s', (ecosystem, lower, higher) => {
    expect(compareVersions(ecosystem, lower, higher)).toBeLessThan(0);
    expect(compareVersions(ecosystem, higher, lower)).toBeGreaterThan(0);
  });

  it.each<[Ecosystem, string, string]>([
    ['PyPI', '1.0', '1.0.0'],
    ['PyPI', '1.0alpha1', '1.0a1'],
    ['PyPI', 'v1.0', '1.0'],
    ['Maven', '1.0', '1.0.0'],
    ['Maven', '1.0', '1-ga'],
    ['Maven', '1.0-final', '1'],
    ['Maven', '1.0-cr1', '1.0-rc1'],
    ['Go', 'v1.2.3', '1.2.3'],
  ])('%s: %s = %s', (ecosystem, a, b) => {
    expect(compareVersions(ecosystem, a, b)).toBe(0);
  });

  it('answers undefined for versions its order cannot read', () => {
    expect(compareVersions('npm', 'latest', '1.0.0')).toBeUndefined();
    expect(compareVersions('PyPI', '1.0-weird!', '1.0')).toBeUndefined();
  });
});

describe('OSV range semantics', () => {
  const component = (version: string, ecosystem: Ecosystem = 'npm') => ({
    purl: `pkg:x/p@${version}`,
    ecosystem,
    name: 'p',
    version,
  });
  const ranges = (...events: Record<string, string>[][]) => ({
    ranges: events.map((e) => ({ type: 'ECOSYSTEM', events: e })),
  });

  it.each([
    // introduced: 0 is below everything, pre-releases included.
    [ranges([{ introduced: '0' }, { fixed: '1.2.0' }]), '0.0.1', true],
    [ranges([{ introduced: '0' }, { fixed: '1.2.0' }]), '1.2.0-rc.1', true],
    [ranges([{ introduced: '0' }, { fixed: '1.2.0' }]), '1.2.0', false],
    // introduced is inclusive; a pre-release of the introducing version is below it.
    [ranges([{ introduced: '1.0.0' }, { fixed: '2.0.0' }]), '1.0.0', true],
    [ranges([{ introduced: '1.0.0' }, { fixed: '2.0.0' }]), '1.0.0-beta', false],
    [ranges([{ introduced: '1.0.0' }, { fixed: '2.0.0' }]), '2.0.0-beta', true],
    // last_affected is inclusive, and the version after it is not affected.
    [ranges([{ introduced: '0' }, { last_affected: '1.4.2' }]), '1.4.2', true],
    [ranges([{ introduced: '0' }, { last_affected: '1.4.2' }]), '1.4.3', false],
    [ranges([{ introduced: '0' }, { last_affected: '1.4.2' }]), '1.4.3-alpha', false],
    // No end: affected from introduced on.
    [ranges([{ introduced: '3.0.0' }]), '99.0.0', true],
    // Multiple ranges, and events listed out of order.
    [
      ranges([{ introduced: '1.0.0' }, { fixed: '1.5.0' }, { introduced: '2.0.0' }, { fixed: '2.2.0' }]),
      '1.7.0',
      false,
    ],
    [
      ranges([{ introduced: '1.0.0' }, { fixed: '1.5.0' }, { introduced: '2.0.0' }, { fixed: '2.2.0' }]),
      '2.1.0',
      true,
    ],
    [ranges([{ fixed: '2.2.0' }, { introduced: '2.0.0' }]), '2.1.9', true],
    [
      ranges([{ introduced: '1.0.0' }, { fixed: '1.5.0' }], [{ introduced: '3.0.0' }, { fixed: '3.1.0' }]),
      '3.0.5',
      true,
    ],
    // Explicit versions.
    [{ versions: ['0.9.1'] }, '0.9.1', true],
    [{ versions: ['0.9.1'] }, '0.9.2', false],
  ])('%j holds %s: %s', (affected, version, expected) => {
    expect(affects(affected, component(version)).affected).toBe(expected);
  });

  it('ignores GIT ranges, which need commit history', () => {
    const git = { ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] };
    expect(affects(git, component('1.0.0')).affected).toBe(false);
  });

  it('names the lowest fix above the version', () => {
    const multiple = ranges(
      [{ introduced: '0' }, { fixed: '1.18.4' }],
      [{ introduced: '1.19.0' }, { fixed: '1.20.3' }],
    );
    expect(affects(multiple, component('1.19.5', 'crates.io'))).toEqual({ affected: true, fixed: '1.20.3' });
  });
});

describe('CVSS v3 base scores', () => {
  it.each([
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N', 6.1],
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:L', 5.4],
    ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 7.2],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5],
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10],
    ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N', 0],
  ])('%s scores %d', (vector, score) => {
    expect(cvss3BaseScore(vector)).toBe(score);
  });

  it('refuses what is not a v3 vector', () => {
    expect(cvss3BaseScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toBeUndefined();
    expect(cvss3BaseScore('CVSS:3.1/AV:X/AC:L')).toBeUndefined();
  });
});

describe('purls and SBOMs', () => {
  it.each([
    ['pkg:npm/%40babel/core@7.24.0', { ecosystem: 'npm', name: '@babel/core', version: '7.24.0' }],
    ['pkg:pypi/Django_Rest@3.0?x=1', { ecosystem: 'PyPI', name: 'django-rest', version: '3.0' }],
    [
      'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.1',
      { ecosystem: 'Maven', name: 'com.fasterxml.jackson.core:jackson-databind', version: '2.13.1' },
    ],
    ['pkg:golang/golang.org/x/net@v0.1.0', { ecosystem: 'Go', name: 'golang.org/x/net', version: 'v0.1.0' }],
    ['pkg:cargo/tokio@1.20.1', { ecosystem: 'crates.io', name: 'tokio', version: '1.20.1' }],
  ])('reads %s', (purl, expected) => {
    expect(componentOf(purl)).toMatchObject(expected);
  });

  it('leaves out what cannot be matched', () => {
    expect(componentOf('pkg:deb/debian/libc6@2.36-9')).toBeUndefined();
    expect(componentOf('pkg:npm/lodash')).toBeUndefined();
    expect(componentOf('not a purl')).toBeUndefined();
  });

  it.each([
    [
      'cyclonedx-npm-1.5.cdx.json',
      'CycloneDX',
      ['web-app@3.2.0', 'lodash@4.17.20', 'lodash-es@4.17.21', '@babel/core@7.24.0', 'lodash@4.17.15'],
    ],
    [
      'syft-1.6.cdx.json',
      'CycloneDX',
      [
        'requests@2.28.0',
        'golang.org/x/net@v0.0.0-20220412020605-290c469a71a5',
        'tokio@1.20.1',
        'tokio@1.23.1',
      ],
    ],
    [
      'syft-2.3.spdx.json',
      'SPDX',
      [
        'com.fasterxml.jackson.core:jackson-databind@2.13.1',
        'com.fasterxml.jackson.core:jackson-databind@2.12.6.1',
        'requests@2.31.0',
      ],
    ],
  ])('lists the components of %s', (file, format, expected) => {
    const found = componentsOf(sbom(file))!;
    expect(found.format).toBe(format);
    expect(found.components.map((c) => `${c.name}@${c.version}`).sort()).toEqual([...expected].sort());
  });
});

describe('matching SBOMs against the fixture database of real advisories', () => {
  const db = new OsvDatabaseFiles(DB);
  const findings = async (file: string) => {
    const index = await db.current();
    return index
      .match(componentsOf(sbom(file))!.components)
      .map((v) => `${v.id} ${v.component.name}@${v.component.version} ${v.severity} fixed ${v.fixed}`)
      .sort();
  };

  it('finds every expected advisory and none for fixed versions: npm (CycloneDX 1.5)', async () => {
    expect(await findings('cyclonedx-npm-1.5.cdx.json')).toEqual([
      'GHSA-35jh-r3h4-6jhm lodash@4.17.15 high fixed 4.17.21',
      'GHSA-35jh-r3h4-6jhm lodash@4.17.20 high fixed 4.17.21',
    ]);
  });

  it('… PyPI, Go and crates.io (CycloneDX 1.6)', async () => {
    expect(await findings('syft-1.6.cdx.json')).toEqual([
      'GHSA-69cg-p879-7622 golang.org/x/net@v0.0.0-20220412020605-290c469a71a5 high fixed 0.0.0-20220906165146-f3363e06e74c',
      'GHSA-7rrj-xr53-82p7 tokio@1.20.1 medium fixed 1.20.3',
      'GHSA-j8r2-6x86-q33q requests@2.28.0 medium fixed 2.31.0',
    ]);
  });

  it('… Maven and PyPI (SPDX 2.3)', async () => {
    expect(await findings('syft-2.3.spdx.json')).toEqual([
      'GHSA-57j2-w4cx-62h2 com.fasterxml.jackson.core:jackson-databind@2.13.1 high fixed 2.13.2.1',
    ]);
  });

  it('carries the aliases and the CVSS vector with its score', async () => {
    const index = await db.current();
    const [vuln] = index.match([componentOf('pkg:pypi/requests@2.30.0')!]);
    expect(vuln).toMatchObject({
      id: 'GHSA-j8r2-6x86-q33q',
      aliases: ['CVE-2023-32681'],
      severity: 'medium',
      cvss: { vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N', score: 6.1 },
      fixed: '2.31.0',
    });
    expect(index.match([componentOf('pkg:pypi/requests@2.2.1')!])).toEqual([]); // before introduced
    expect(index.advisories).toBe(5);
  });

  it('reads the same database from a zip of OSV JSON, with the same version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-osv-zip-'));
    try {
      const names = readdirSync(DB);
      writeFileSync(
        join(dir, 'all.zip'),
        zip(names.map((name) => ({ path: name, data: readFileSync(`${DB}/${name}`), deflate: true }))),
      );
      const zipped = await new OsvDatabaseFiles(join(dir, 'all.zip')).current();
      expect(zipped.advisories).toBe(5);
      expect(zipped.version).toBe((await db.current()).version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores withdrawn advisories', () => {
    const withdrawn: OsvRecord = {
      id: 'GHSA-xxxx',
      withdrawn: '2024-01-01T00:00:00Z',
      affected: [{ package: { ecosystem: 'npm', name: 'p' }, versions: ['1.0.0'] }],
    };
    expect(new OsvIndex([withdrawn], 'v').match([componentOf('pkg:npm/p@1.0.0')!])).toEqual([]);
  });
});
