import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClamdInLambda,
  downloadDefinitions,
  startClamd,
  uploadDefinitions,
} from '../../functions/adapters/clamav/clamavDefinitions.ts';
import { ClamdClient, parseClamdAddress } from '../../functions/adapters/clamav/clamdClient.ts';
import { CLAMD_BINARY, TEST_PATTERN } from '../support/clamd.ts';
import { freshResources, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const hex = (text: string) => Buffer.from(text, 'latin1').toString('hex');

/**
 * The ClamAV image's cold start, without the image: definitions in a bucket (moto) copied to a
 * directory, a real clamd started on them, and the definitions written back as freshclam's refresh
 * does. The test's own signature database stands in for ClamAV's official one.
 */
describe('ClamAV definitions from a bucket (the container-image scan on AWS)', () => {
  const dirs: string[] = [];
  let clamd: ClamdInLambda | undefined;
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-clamav-defs-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    clamd?.process.kill('SIGTERM');
    clamd = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('copies the definitions, starts clamd on them, and it finds what they describe', async () => {
    const clients = motoClients();
    const { bucket } = await freshResources(clients);
    const put = (key: string, body: string) =>
      clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await put('arca-test.ndb', `Arca.Test.Pattern:0:*:${hex(TEST_PATTERN)}\n`);
    await put('notes.txt', 'not a definition file');
    const dir = tempDir();

    expect(await downloadDefinitions(clients.s3, bucket, dir)).toBe(1);
    expect(readdirSync(dir)).toEqual(['arca-test.ndb']);
    clamd = await startClamd(dir, { socket: join(dir, 'clamd.sock'), binary: CLAMD_BINARY });

    const client = new ClamdClient(parseClamdAddress(clamd.address));
    const stream = await client.instream();
    await stream.write(Buffer.from(`payload ${TEST_PATTERN}`));
    expect(await stream.end()).toEqual({ kind: 'found', signature: 'Arca.Test.Pattern.UNOFFICIAL' });
  });

  it('refuses to start clamd on an empty bucket rather than scan with no signatures', async () => {
    const clients = motoClients();
    const { bucket } = await freshResources(clients);
    const dir = tempDir();

    expect(await downloadDefinitions(clients.s3, bucket, dir)).toBe(0);
    await expect(startClamd(dir, { socket: join(dir, 'clamd.sock'), binary: CLAMD_BINARY })).rejects.toThrow(
      /no ClamAV definitions/,
    );
  });

  it('writes refreshed definitions back, and only definition files', async () => {
    const clients = motoClients();
    const { bucket } = await freshResources(clients);
    const dir = tempDir();
    writeFileSync(join(dir, 'daily.cld'), 'refreshed');
    writeFileSync(join(dir, 'freshclam.conf'), 'DatabaseDirectory /tmp/clamav');

    expect(await uploadDefinitions(clients.s3, bucket, dir)).toEqual(['daily.cld']);

    const copy = tempDir();
    expect(await downloadDefinitions(clients.s3, bucket, copy)).toBe(1);
    expect(readdirSync(copy)).toEqual(['daily.cld']);
  });
});
