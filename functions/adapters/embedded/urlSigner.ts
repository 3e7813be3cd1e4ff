import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a signed storage URL authorises: one staged PUT, one part of a multipart upload, or one GET. */
export type StorageGrant =
  | {
      readonly op: 'put';
      readonly key: string;
      readonly size: number;
      /** Absent for a pack, whose files the scan checks one by one. */
      readonly sha256?: string;
      readonly exp: number;
    }
  | {
      readonly op: 'part';
      readonly key: string;
      readonly multipartId: string;
      readonly partNumber: number;
      readonly offset: number;
      readonly size: number;
      readonly exp: number;
    }
  | {
      readonly op: 'get';
      readonly sha256: string;
      readonly name: string;
      readonly mediaType: string;
      readonly exp: number;
    };

export type VerifyResult =
  | { readonly ok: true; readonly grant: StorageGrant }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' };

/**
 * HMAC-signed storage URLs for the embedded backend, playing the part S3's presigned URLs play on
 * AWS. The token carries the grant itself, so verifying it needs no index lookup on the byte path.
 */
export class UrlSigner {
  constructor(private readonly key: Uint8Array) {}

  /** Loads the key from `<dataDir>/keys/url-signing.key`, generating it on first start. */
  static fromDataDir(dataDir: string): UrlSigner {
    return new UrlSigner(loadOrCreateKey(dataDir, 'url-signing.key'));
  }

  sign(grant: StorageGrant): string {
    const body = Buffer.from(JSON.stringify(grant)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  verify(token: string, nowMs: number): VerifyResult {
    const dot = token.indexOf('.');
    if (dot <= 0) return { ok: false, reason: 'invalid' };
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(body));
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'invalid' };
    const grant = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as StorageGrant;
    if (nowMs >= grant.exp) return { ok: false, reason: 'expired' };
    return { ok: true, grant };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/** A 32-byte secret kept in the data dir (mode 0600), created once. */
export function loadOrCreateKey(dataDir: string, name: string): Buffer {
  const dir = join(dataDir, 'keys');
  const path = join(dir, name);
  try {
    return readFileSync(path);
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    try {
      writeFileSync(path, key, { mode: 0o600, flag: 'wx' });
      return key;
    } catch {
      return readFileSync(path); // another process created it first
    }
  }
}
