import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clamavScanner } from '../../functions/adapters/clamav/clamavScanner.ts';
import {
  ClamdClient,
  ClamdUnavailableError,
  parseClamdAddress,
  verdictOf,
} from '../../functions/adapters/clamav/clamdClient.ts';
import { archiveScanner } from '../../functions/core/archive/archiveScanner.ts';
import type { Finding } from '../../functions/core/model.ts';
import { EICAR, tar, zip } from '../support/archives.ts';
import { type Clamd, startClamd, TEST_PATTERN, TEST_WHOLE_FILE } from '../support/clamd.ts';

let clamd: Clamd;
beforeAll(async () => {
  clamd = await startClamd(); // once for the file: loading signatures is clamd's slow part
}, 120_000);
afterAll(() => clamd?.stop());

/** One scan as the scan step runs it: ClamAV on the file, or on its files when it is an archive. */
async function scan(bytes: Buffer, address = clamd.address, chunk = 64 * 1024): Promise<Finding[]> {
  const engine = clamavScanner(new ClamdClient(parseClamdAddress(address)));
  const pass = archiveScanner({ inner: [engine], root: [engine] }).start();
  for (let at = 0; at < bytes.length; at += chunk) await pass.update(bytes.subarray(at, at + chunk));
  return pass.finish();
}

const named = (findings: Finding[]) => findings.map((f) => `${f.scanner} ${f.rule} ${f.path ?? '-'}`);
const infected = Buffer.from(`#!/bin/sh\n# ${TEST_PATTERN}\nexit 0\n`);

describe('ClamAV through clamd', () => {
  // clamd names signatures outside its official databases `<name>.UNOFFICIAL`.
  it('finds the test signature in a plain file, naming the signature', async () => {
    expect(named(await scan(infected))).toEqual(['clamav Arca.Test.Pattern.UNOFFICIAL -']);
    expect(named(await scan(TEST_WHOLE_FILE, clamd.address, 7))).toEqual([
      'clamav Arca.Test.WholeFile.UNOFFICIAL -',
    ]);
    expect(named(await scan(Buffer.from(EICAR)))).toEqual(['clamav Arca.Test.EICAR.UNOFFICIAL -']);
  });

  it('finds it inside a tar.gz, naming the entry', async () => {
    const archive = gzipSync(
      tar([
        { path: 'readme', data: 'hi' },
        { path: 'bin/tool', data: infected },
      ]),
    );

    expect(named(await scan(archive, clamd.address, 1000))).toEqual([
      'clamav Arca.Test.Pattern.UNOFFICIAL bin/tool',
    ]);
  });

  it('finds it inside a zip inside a tar', async () => {
    const inner = zip([
      { path: 'ok.txt', data: 'fine', deflate: true },
      { path: 'lib/bad.so', data: Buffer.concat([Buffer.alloc(100_000, 7), infected]), deflate: true },
    ]);
    const archive = tar([{ path: 'dist/bundle.zip', data: inner }]);

    expect(named(await scan(archive))).toEqual([
      'clamav Arca.Test.Pattern.UNOFFICIAL dist/bundle.zip!/lib/bad.so',
    ]);
  });

  it('names findings in file order while clamd answers several files at once', async () => {
    const files = Array.from({ length: 40 }, (_, i) => ({
      path: `f${i}`,
      data: [3, 17, 29, 39].includes(i) ? infected : Buffer.alloc(20_000 + i, i),
    }));

    expect(named(await scan(gzipSync(tar(files)), clamd.address, 4096))).toEqual(
      ['f3', 'f17', 'f29', 'f39'].map((f) => `clamav Arca.Test.Pattern.UNOFFICIAL ${f}`),
    );
  });

  it('calls a clean file clean, and an empty one', async () => {
    expect(await scan(Buffer.from('nothing to see here\n'.repeat(10_000)))).toEqual([]);
    expect(await scan(Buffer.alloc(0))).toEqual([]);
    expect(await scan(gzipSync(tar([{ path: 'a', data: 'clean' }])))).toEqual([]);
  });

  it('reports its engine and database', async () => {
    const runs = await clamavScanner(new ClamdClient(parseClamdAddress(clamd.address))).engines!();

    expect(runs).toEqual([
      {
        name: 'clamav',
        version: expect.stringMatching(/^ClamAV \d+\.\d+/),
        database: 'no official database loaded',
      },
    ]);
  });

  it('throws, never answers clean, when clamd is unreachable', async () => {
    const nowhere = `unix:${clamd.socketPath}.missing`;

    await expect(scan(infected, nowhere)).rejects.toBeInstanceOf(ClamdUnavailableError);
    await expect(scan(Buffer.from('clean'), nowhere)).rejects.toBeInstanceOf(ClamdUnavailableError);
    await expect(scan(Buffer.from('clean'), 'tcp:127.0.0.1:1')).rejects.toThrow(/unreachable/);
  });

  it('turns a stream clamd would not read to its end into a finding, not clean', () => {
    expect(verdictOf('INSTREAM size limit exceeded. ERROR')).toEqual({
      kind: 'limit',
      reason: 'INSTREAM size limit exceeded. ERROR',
    });
    expect(() => verdictOf('Something broke. ERROR')).toThrow(ClamdUnavailableError);
  });
});

describe('parseClamdAddress', () => {
  it.each([
    ['unix:/run/clamav/clamd.ctl', { kind: 'unix', path: '/run/clamav/clamd.ctl' }],
    ['tcp:127.0.0.1:3310', { kind: 'tcp', host: '127.0.0.1', port: 3310 }],
    ['tcp:[::1]:3310', { kind: 'tcp', host: '::1', port: 3310 }],
  ])('reads %s', (text, address) => {
    expect(parseClamdAddress(text)).toEqual(address);
  });

  it.each(['', 'unix:', 'clamd:3310', 'tcp:host', 'tcp:host:0', 'tcp:host:70000'])('refuses %j', (text) => {
    expect(() => parseClamdAddress(text)).toThrow(/ARCA_CLAMD/);
  });
});
