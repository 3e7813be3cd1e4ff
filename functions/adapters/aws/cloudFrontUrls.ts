import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';

/**
 * A canned-policy CloudFront signed URL: valid for exactly `url` (its query string included) until
 * `expiresAt`, signed with RSA-SHA256 by the private half of a key in the distribution's key group.
 * Signed by AWS's own signer (`@aws-sdk/cloudfront-signer`), never by hand.
 */
export function signCloudFrontUrl(
  url: string,
  keyPairId: string,
  privateKeyPem: string,
  expiresAt: Date,
): string {
  return getSignedUrl({
    url,
    keyPairId,
    privateKey: privateKeyPem,
    dateLessThan: expiresAt.toISOString(),
    algorithm: 'SHA256',
  });
}

export interface CloudFrontDownloadsOptions {
  /** The distribution's domain (`d111111abcdef8.cloudfront.net`). */
  readonly domain: string;
  readonly keyPairId: string;
  /** Reads the PEM private key (from Secrets Manager on AWS). */
  readonly loadPrivateKey: () => Promise<string | undefined>;
  /** How long to serve S3 presigned URLs before looking for a usable key again (default 60 s). */
  readonly retryAfterMs?: number;
  readonly now?: () => number;
  /**
   * Hex sha256 of the SPKI DER of the public key in the distribution's key group. A private key whose
   * public half differs would sign URLs CloudFront answers 403 to: it is refused like a missing one.
   * @default - not checked
   */
  readonly publicKeySha256?: string;
  /** Told once per failed load why CloudFront URLs are not being handed out. */
  readonly onKeyUnavailable?: (reason: string) => void;
}

/**
 * Download URLs through CloudFront. The key is loaded once and kept; until a usable one exists (the
 * stack creates the secret empty of a key: the operator puts the PEM in after deploy), `sign`
 * answers undefined and the caller falls back to an S3 presigned URL, so a fresh deployment serves
 * downloads from the first minute and switches to CloudFront by itself.
 */
export class CloudFrontDownloads {
  private key: string | undefined;
  private loading: Promise<string | undefined> | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: CloudFrontDownloadsOptions) {}

  /** The signed URL of `objectKey` with `query` (already encoded), or undefined without a key. */
  async sign(objectKey: string, query: string, expiresAt: Date): Promise<string | undefined> {
    const key = this.key ?? (await this.loadKey());
    if (!key) return undefined;
    const path = objectKey.split('/').map(encodeURIComponent).join('/');
    const url = `https://${this.options.domain}/${path}${query ? `?${query}` : ''}`;
    return signCloudFrontUrl(url, this.options.keyPairId, key, expiresAt);
  }

  private loadKey(): Promise<string | undefined> {
    const now = this.options.now?.() ?? Date.now();
    if (now - this.failedAt < (this.options.retryAfterMs ?? 60_000)) return Promise.resolve(undefined);
    this.loading ??= this.readKey(now).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async readKey(now: number): Promise<string | undefined> {
    try {
      const pem = await this.options.loadPrivateKey();
      if (!pem) throw new Error('the signing secret is empty');
      // Parsed once here, so a key that is not a usable RSA key falls back now, not per request.
      if (createPrivateKey(pem).asymmetricKeyType !== 'rsa')
        throw new Error('the signing key is not an RSA key');
      const expected = this.options.publicKeySha256?.toLowerCase();
      if (expected !== undefined && publicKeySha256(pem) !== expected)
        throw new Error("the signing key does not match the distribution's public key");
      this.key = pem;
      return this.key;
    } catch (error) {
      this.key = undefined;
      this.failedAt = now;
      const reason = error instanceof Error ? error.message : String(error);
      this.options.onKeyUnavailable?.(`CloudFront signing key unavailable, serving S3 URLs: ${reason}`);
      return undefined;
    }
  }
}

/**
 * Hex sha256 of a public key's SPKI DER (a private key PEM or KeyObject gives its public half): the
 * fingerprint the stack passes as `ARCA_CDN_PUBLIC_KEY_SHA256` and the key-pair custom resource returns.
 */
export function publicKeySha256(key: KeyObject | string): string {
  const publicKey = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}
