import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf } from '../../core/dsse.ts';
import type { StoreKey, StoreKeys } from '../../ports.ts';

/** What `keys.json` holds per key; the private key is `<keyId>.pem` beside it. */
interface KeyEntry {
  readonly keyId: string;
  readonly createdAt: string;
  readonly retiredAt?: string;
}

interface LoadedKey extends KeyEntry {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * The embedded store's signing keys: ECDSA P-256 private keys as PKCS#8 PEM files in
 * `<dataDir>/keys/` (directory 0700, files 0600), with `keys.json` listing them oldest first. The first
 * key is made on first start; a rotation adds one and marks the previous `retiredAt`, never deleting
 * it, so every signature the store ever made still verifies against a listed key.
 */
export class FileStoreKeys implements StoreKeys {
  private keys: LoadedKey[];

  private constructor(
    private readonly dir: string,
    keys: LoadedKey[],
  ) {
    this.keys = keys;
  }

  /** Opens the keys of a data dir, making the first one when there is none. */
  static open(dataDir: string, now: Date = new Date()): FileStoreKeys {
    const dir = join(dataDir, 'keys');
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    chmodSync(dir, DIR_MODE);
    const index = join(dir, 'keys.json');
    const entries: KeyEntry[] = existsSync(index) ? JSON.parse(readFileSync(index, 'utf8')) : [];
    const store = new FileStoreKeys(
      dir,
      entries.map((e) => load(dir, e)),
    );
    if (store.keys.length === 0) store.add(now);
    return store;
  }

  async sign(data: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    const current = this.keys.at(-1)!;
    const signature = sign('sha256', data, { key: current.privateKey, dsaEncoding: 'der' });
    return { keyId: current.keyId, signature };
  }

  async list(): Promise<StoreKey[]> {
    return this.keys.map(({ keyId, publicKeyPem, createdAt, retiredAt }) => ({
      keyId,
      algorithm: 'ECDSA_P256_SHA256',
      publicKeyPem,
      createdAt,
      ...(retiredAt ? { retiredAt } : {}),
    }));
  }

  async rotate(now: Date): Promise<StoreKey> {
    const added = this.add(now);
    return (await this.list()).find((k) => k.keyId === added.keyId)!;
  }

  /** Writes a new key's PEM, then the index naming it current (atomically, by rename). */
  private add(now: Date): LoadedKey {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keyId = keyIdOf(createPublicKey(privateKey));
    writeFileSync(join(this.dir, `${keyId}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: FILE_MODE,
    });
    const at = now.toISOString();
    const retired = this.keys.map((k) => (k.retiredAt ? k : { ...k, retiredAt: at }));
    const added = load(this.dir, { keyId, createdAt: at });
    const next = [...retired, added];
    const entries: KeyEntry[] = next.map(({ keyId: id, createdAt, retiredAt }) => ({
      keyId: id,
      createdAt,
      ...(retiredAt ? { retiredAt } : {}),
    }));
    const tmp = join(this.dir, 'keys.json.tmp');
    writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`, { mode: FILE_MODE });
    renameSync(tmp, join(this.dir, 'keys.json'));
    this.keys = next;
    return added;
  }
}

function load(dir: string, entry: KeyEntry): LoadedKey {
  const privateKey = createPrivateKey(readFileSync(join(dir, `${entry.keyId}.pem`)));
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { ...entry, privateKey, publicKeyPem };
}
