import { describe, expect, it } from 'vitest';
import { describeVersion, describeVulnerabilities } from '../../cli/format.ts';

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
