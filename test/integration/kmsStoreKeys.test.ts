import { CreateKeyCommand, type KMSClient, SignCommand, type SignCommandInput } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { emulatorSigningKeys, KmsStoreKeys } from '../../functions/adapters/aws/kmsStoreKeys.ts';
import { nodeVerifies, opensslVerifies } from '../support/dsseVerification.ts';
import { sha256 } from '../support/fixtures.ts';
import { motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const newKey = async (kms: KMSClient) =>
  (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!
    .KeyId!;

describe('KmsStoreKeys', () => {
  it('signs messages up to 4096 bytes RAW, verifiable by openssl and node', async () => {
    const { kms } = motoClients();
    const keys = new KmsStoreKeys({ kms, keyIds: async () => [await newKey(kms)] });
    const [key] = await keys.list();
    expect(key).toMatchObject({
      algorithm: 'ECDSA_P256_SHA256',
      keyId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    for (const size of [100, 4096]) {
      const message = Buffer.alloc(size, size % 251);
      const { keyId, signature } = await keys.sign(message);
      expect(keyId).toBe(key!.keyId);
      const sig = Buffer.from(signature);
      expect(opensslVerifies(key!.publicKeyPem, sig, message)).toBe(true);
      expect(nodeVerifies(key!.publicKeyPem, sig, message)).toBe(true);
      message[0]! ^= 1;
      expect(opensslVerifies(key!.publicKeyPem, sig, message)).toBe(false);
    }
  });

  // moto signs every message as RAW (its DIGEST is unimplemented), so only the request is checked.
  it('sends a message longer than 4096 bytes as its SHA-256 DIGEST', async () => {
    const { kms } = motoClients();
    const keyId = await newKey(kms);
    const sent: SignCommandInput[] = [];
    const recording = {
      send: (command: { input: unknown }) => {
        if (command instanceof SignCommand) sent.push(command.input);
        return kms.send(command as never);
      },
    } as unknown as KMSClient;
    const message = Buffer.alloc(4097, 7);
    await new KmsStoreKeys({ kms: recording, keyIds: async () => [keyId] }).sign(message);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ KeyId: keyId, SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'DIGEST' });
    expect(Buffer.from(sent[0]!.Message!).toString('hex')).toBe(sha256(message));
  });

  it('rotates by deploy: with one more key listed, the new key signs and the old one is listed retired', async () => {
    const { kms } = motoClients();
    const first = await newKey(kms);
    const before = new KmsStoreKeys({ kms, keyIds: async () => [first] });
    const message = Buffer.from('signed before the rotation');
    const old = await before.sign(message);

    const second = await newKey(kms);
    const after = new KmsStoreKeys({ kms, keyIds: async () => [first, second] });
    const fresh = await after.sign(message);
    const listed = await after.list();
    expect(listed.map((k) => k.keyId)).toEqual([old.keyId, fresh.keyId]);
    expect(listed[0]!.retiredAt).toBe(listed[1]!.createdAt);
    expect(listed[1]!.retiredAt).toBeUndefined();
    for (const [signed, key] of [
      [old, listed[0]!],
      [fresh, listed[1]!],
    ] as const)
      expect(opensslVerifies(key.publicKeyPem, Buffer.from(signed.signature), message)).toBe(true);
    await expect(after.rotate()).rejects.toMatchObject({ code: 'Conflict' });
  });

  it('finds the emulator key by its alias, making it once', async () => {
    const { kms } = motoClients();
    const [made] = await emulatorSigningKeys(kms);
    expect(await emulatorSigningKeys(kms)).toEqual([made]);
  });
});
