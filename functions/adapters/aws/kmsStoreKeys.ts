import { createHash, createPublicKey } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  type KMSClient,
  NotFoundException,
  SignCommand,
} from '@aws-sdk/client-kms';
import { keyIdOf } from '../../core/dsse.ts';
import { ConflictError } from '../../core/errors.ts';
import type { StoreKey, StoreKeys } from '../../ports.ts';

/** KMS hashes a RAW message itself only up to this size; a longer one is sent as its SHA-256 digest. */
export const KMS_RAW_MESSAGE_LIMIT = 4096;

/** The alias of the signing key made for an emulator (the stack makes its own and passes its id). */
export const EMULATOR_SIGNING_KEY_ALIAS = 'alias/arca-signing';

export interface KmsStoreKeysOptions {
  readonly kms: KMSClient;
  /** KMS key ids or ARNs, oldest first: the last one signs. Resolved once, on first use. */
  readonly keyIds: () => Promise<readonly string[]>;
}

interface KmsKey extends StoreKey {
  readonly kmsKeyId: string;
}

/**
 * The store's signing keys in KMS (ECC_NIST_P256, SIGN_VERIFY): the private key never leaves KMS.
 * The stack names the keys (`ARCA_SIGNING_KEYS`, oldest first); rotating is a deployment that adds a
 * key to that list (docs/deploy.md), so no function ever needs `kms:CreateKey`. A key is retired when
 * the next one was created; retired keys stay listed so old signatures verify.
 */
export class KmsStoreKeys implements StoreKeys {
  private loaded?: Promise<KmsKey[]>;

  constructor(private readonly options: KmsStoreKeysOptions) {}

  async sign(data: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    const current = (await this.keys()).at(-1)!;
    const raw = data.length <= KMS_RAW_MESSAGE_LIMIT;
    const { Signature } = await this.options.kms.send(
      new SignCommand({
        KeyId: current.kmsKeyId,
        SigningAlgorithm: 'ECDSA_SHA_256',
        MessageType: raw ? 'RAW' : 'DIGEST',
        Message: raw ? data : createHash('sha256').update(data).digest(),
      }),
    );
    if (!Signature) throw new Error(`KMS returned no signature for key ${current.kmsKeyId}`);
    return { keyId: current.keyId, signature: Signature };
  }

  async list(): Promise<StoreKey[]> {
    return (await this.keys()).map(({ kmsKeyId: _, ...key }) => key);
  }

  async rotate(): Promise<StoreKey> {
    throw new ConflictError(
      'on AWS the signing key rotates by deploying the stack with one more signing key (docs/deploy.md)',
      { details: { reason: 'rotateByDeploy' } },
    );
  }

  private keys(): Promise<KmsKey[]> {
    this.loaded ??= this.load().catch((error) => {
      this.loaded = undefined; // a failed read is retried by the next call
      throw error;
    });
    return this.loaded;
  }

  private async load(): Promise<KmsKey[]> {
    const ids = await this.options.keyIds();
    if (ids.length === 0) throw new Error('no store signing key is configured');
    const keys = await Promise.all(ids.map((id) => this.describe(id)));
    return keys.map((key, n) => {
      const next = keys[n + 1];
      return next ? { ...key, retiredAt: next.createdAt } : key;
    });
  }

  private async describe(kmsKeyId: string): Promise<KmsKey> {
    const [pub, described] = await Promise.all([
      this.options.kms.send(new GetPublicKeyCommand({ KeyId: kmsKeyId })),
      this.options.kms.send(new DescribeKeyCommand({ KeyId: kmsKeyId })),
    ]);
    if (!pub.PublicKey) throw new Error(`KMS key ${kmsKeyId} has no public key`);
    const der = Buffer.from(pub.PublicKey);
    const publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
    // Checked on the key itself: not every KMS (emulators) reports KeySpec.
    if (publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new Error(`KMS key ${kmsKeyId} is not an ECC_NIST_P256 signing key`);
    return {
      kmsKeyId,
      keyId: keyIdOf(publicKey),
      algorithm: 'ECDSA_P256_SHA256',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      createdAt: (described.KeyMetadata?.CreationDate ?? new Date(0)).toISOString(),
    };
  }
}

/**
 * The signing key of an emulated store: found by its alias, or made (ECC_NIST_P256, SIGN_VERIFY,
 * tagged `arca`) on first use, like `provision` makes the bucket and table the stack would.
 */
export async function emulatorSigningKeys(kms: KMSClient): Promise<string[]> {
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: EMULATOR_SIGNING_KEY_ALIAS }));
    return [KeyMetadata!.KeyId!];
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Description: 'Arca store signing key (emulator)',
      Tags: [{ TagKey: 'arca', TagValue: 'signing' }],
    }),
  );
  const keyId = KeyMetadata!.KeyId!;
  await kms
    .send(new CreateAliasCommand({ AliasName: EMULATOR_SIGNING_KEY_ALIAS, TargetKeyId: keyId }))
    .catch(async (error) => {
      // Another process made its key first: use that one, so every process signs with one key.
      if (error?.name !== 'AlreadyExistsException') throw error;
    });
  const { KeyMetadata: aliased } = await kms.send(
    new DescribeKeyCommand({ KeyId: EMULATOR_SIGNING_KEY_ALIAS }),
  );
  return [aliased!.KeyId!];
}
