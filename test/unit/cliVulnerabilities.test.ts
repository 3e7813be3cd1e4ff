import { describe, expect, it } from 'vitest';
import { describeAttestations, describeVersion, describeVulnerabilities } from '../../cli/format.ts';

describe('arca show: vulnerabilities', () => {
  it('lists them worst first, with aliases and the fixed version', () => {
    const component = (purl: string) => ({ purl, ecosystem: 'npm', name: 'x', version: '1' });
    const lines = describeVulnerabilities({
      database: 'osv sha256:4f1c',
      matchedAt: '2026-01-01T00:00:00.000Z',
      components: 12,
      findings: [
        {
          id: 'GHSA-j8r2-6x86-q33q',
          aliases: ['CVE-2023-32681'],
          severity: 'medium',
          component: component('pkg:pypi/requests@2.28.0'),
          fixed: '2.31.0',
        },
        {
          id: 'GHSA-35jh-r3h4-6jhm',
          aliases: [],
          severity: 'high',
          component: component('pkg:npm/lodash@4.17.20'),
        },
      ],
    });

    expect(lines).toEqual([
      '    vulnerabilities: 2 in 12 components (osv sha256:4f1c)',
      '      high     GHSA-35jh-r3h4-6jhm  pkg:npm/lodash@4.17.20',
      '      medium   GHSA-j8r2-6x86-q33q (CVE-2023-32681)  pkg:pypi/requests@2.28.0  fixed in 2.31.0',
    ]);
    expect(describeVulnerabilities(undefined)).toEqual([]);
  });
});

describe('arca show: a scan that keeps failing', () => {
  it('prints the engine and why under the pending file', () => {
    const lines = describeVersion({
      namespace: 'payments',
      package: 'api',
      version: '1.0.0',
      state: 'pending',
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'ci',
      metadata: {},
      stages: [],
      protected: false,
      leases: [],
      files: [
        {
          name: 'app.tar.gz',
          sha256: 'a'.repeat(64),
          size: 2048,
          mediaType: 'application/gzip',
          state: 'pending',
          scan: {
            status: 'error',
            findings: [],
            error: { engine: 'clamav', message: 'clamd at /run/clamav/clamd.ctl is unreachable: ENOENT' },
          },
        },
      ],
    });

    expect(lines.slice(2)).toEqual([
      `  app.tar.gz  2.0 KiB  sha256:${'a'.repeat(64)}  pending  scan error`,
      '    scan error: clamav: clamd at /run/clamav/clamd.ctl is unreachable: ENOENT (retrying)',
    ]);
  });
});

describe('arca show: attested SBOMs', () => {
  it('lists the vulnerabilities of an attested SBOM under it, or says it is not matched yet', () => {
    const base = {
      kind: 'publisher' as const,
      predicateType: 'https://cyclonedx.org/bom',
      signedBy: '',
      verified: false,
      envelope: { payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [] },
    };
    const component = {
      purl: 'pkg:npm/lodash@4.17.20',
      ecosystem: 'npm',
      name: 'lodash',
      version: '4.17.20',
    };
    const lines = describeAttestations([
      {
        ...base,
        id: 'a1',
        sbom: {
          format: 'CycloneDX',
          components: [component.purl],
          vulnerabilities: {
            database: 'osv sha256:4f1c',
            matchedAt: '2026-01-01T00:00:00.000Z',
            components: 1,
            findings: [
              { id: 'GHSA-35jh-r3h4-6jhm', aliases: [], severity: 'high', component, fixed: '4.17.21' },
            ],
          },
        },
      },
      { ...base, id: 'a2', sbom: { format: 'CycloneDX', components: [component.purl] } },
    ]);

    expect(lines).toEqual([
      '  attestations:',
      '    publisher   https://cyclonedx.org/bom  no trusted signer  not verified',
      '      vulnerabilities: 1 in 1 components (osv sha256:4f1c)',
      '        high     GHSA-35jh-r3h4-6jhm  pkg:npm/lodash@4.17.20  fixed in 4.17.21',
      '    publisher   https://cyclonedx.org/bom  no trusted signer  not verified',
      '      sbom: 1 components, not matched against advisories yet',
      '  provenance: none',
    ]);
  });
});
