import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStoreKeys } from '../../functions/adapters/embedded/fileStoreKeys.ts';
import { nodeVerifies, opensslVerifies } from '../support/dsseVerification.ts';

describe('FileStoreKeys', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-keys-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('makes one key on first start, private to the owner (dir 0700, files 0600), and keeps it across restarts', async () => {
    const dir = dataDir();
    const first = await FileStoreKeys.open(dir).list();
    expect(first).toHaveLength(1);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(join(dir, 'keys')))
      expect(statSync(join(dir, 'keys', file)).mode & 0o777).toBe(0o600);
    expect(await FileStoreKeys.open(dir).list()).toEqual(first);
  });

  it('rotates: the new key signs, the old one is listed retired, and both signatures verify', async () => {
    const dir = dataDir();
    const keys = FileStoreKeys.open(dir, new Date('2026-01-01T00:00:00Z'));
    const message = Buffer.from('DSSEv1 4 type 4 body');
    const before = await keys.sign(message);
    const rotated = await keys.rotate(new Date('2026-02-01T00:00:00Z'));
    const after = await keys.sign(message);
    expect(after.keyId).toBe(rotated.keyId);
    const listed = await FileStoreKeys.open(dir).list();
    expect(listed.map((k) => [k.keyId, k.retiredAt])).toEqual([
      [before.keyId, '2026-02-01T00:00:00.000Z'],
      [after.keyId, undefined],
    ]);
    for (const [signed, key] of [
      [before, listed[0]!],
      [after, listed[1]!],
    ] as const) {
      expect(opensslVerifies(key.publicKeyPem, Buffer.from(signed.signature), message)).toBe(true);
      expect(nodeVerifies(key.publicKeyPem, Buffer.from(signed.signature), message)).toBe(true);
    }
  });
});
