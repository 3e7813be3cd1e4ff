import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { ensureProvenance, type ProvenanceDeps } from '../../functions/core/provenance.ts';
import type { ProvenanceQueue, StoreKey, StoreKeys } from '../../functions/ports.ts';

/** Store signing keys held in memory (ECDSA P-256, node:crypto), for use-case tests. */
export class MemoryStoreKeys implements StoreKeys {
  private readonly keys: { key: StoreKey; privateKey: KeyObject }[] = [];

  constructor(now = new Date('2026-01-01T00:00:00Z')) {
    this.add(now);
  }

  async sign(data: Uint8Array) {
    const current = this.keys.at(-1)!;
    return {
      keyId: current.key.keyId,
      signature: sign('sha256', data, { key: current.privateKey, dsaEncoding: 'der' }),
    };
  }

  async list(): Promise<StoreKey[]> {
    return this.keys.map((k) => k.key);
  }

  async rotate(now: Date): Promise<StoreKey> {
    return this.add(now);
  }

  private add(now: Date): StoreKey {
    const last = this.keys.at(-1);
    if (last) last.key = { ...last.key, retiredAt: now.toISOString() };
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const publicKey = createPublicKey(privateKey);
    const key: StoreKey = {
      keyId: createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex'),
      algorithm: 'ECDSA_P256_SHA256',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      createdAt: now.toISOString(),
    };
    this.keys.push({ key, privateKey });
    return key;
  }
}

/** Signs in the caller's turn, as if the scan worker took the request at once (use-case tests). */
export const inlineProvenanceQueue = (deps: () => ProvenanceDeps): ProvenanceQueue => ({
  request: async (ref) => {
    await ensureProvenance(deps(), ref);
  },
});
