import { describe, expect, it } from 'vitest';
import { arca } from './harness.ts';

const nowhere = { url: 'http://127.0.0.1:9', token: '' };
const COMMANDS = [
  'publish',
  'fetch',
  'verify',
  'attest',
  'promote',
  'versions',
  'delete',
  'namespaces',
  'packages',
  'search',
  'show',
  'lease',
  'gc',
  'audit',
  'token',
  'whoami',
  'serve',
  'completion',
];

describe('arca --help', () => {
  it('lists every command and the exit codes', async () => {
    const result = await arca(nowhere, ['--help']);

    expect(result.code).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toContain(`  ${command} `);
    expect(result.stdout).toContain('10  transient');
  });

  it.each(COMMANDS)('explains `arca %s` with examples and the exit codes', async (command) => {
    const result = await arca(nowhere, [command, '--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: arca ${command}`);
    expect(result.stdout).toContain(`Examples:\n  arca ${command}`);
    expect(result.stdout).toContain('Exit codes:');
  });
});
