import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';

/**
 * A canned-policy CloudFront signed URL: valid for exactly `url` (its query string included) until
 * `expiresAt`, signed with RSA-SHA256 by the private half of a key in the distribution's key group.
 */
export function signCloudFrontUrl(
  url: string,
  keyPairId: string,
  privateKey: KeyObject,
  expiresAt: Date,
): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const signature = createSign('RSA-SHA256').update(cannedPolicy(url, expires)).sign(privateKey, 'base64');
  const params = `Expires=${expires}&Signature=${cloudFrontBase64(signature)}&Key-Pair-Id=${keyPairId}`;
  return `${url}${url.includes('?') ? '&' : '?'}${params}&Hash-Algorithm=SHA256`;
}

/** The policy a canned signature covers: CloudFront rebuilds it from the URL and `Expires`. */
export const cannedPolicy = (url: string, expires: number): string =>
  JSON.stringify({
    Statement: [{ Resource: url, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }],
  });

/** CloudFront's URL-safe base64: `+` → `-`, `=` → `_`, `/` → `~`. */
const cloudFrontBase64 = (b64: string): string =>
  b64.replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');

export interface CloudFrontDownloadsOptions {
  /** The distribution's domain (`d111111abcdef8.cloudfront.net`). */
  readonly domain: string;
  readonly keyPairId: string;
  /** Reads the PEM private key (from Secrets Manager on AWS). */
  readonly loadPrivateKey: () => Promise<string | undefined>;
  /** How long to serve S3 presigned URLs before looking for a usable key again (default 60 s). */
  readonly retryAfterMs?: number;
  readonly now?: () => number;
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
  private key: KeyObject | undefined;
  private loading: Promise<KeyObject | undefined> | undefined;
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

  private loadKey(): Promise<KeyObject | undefined> {
    const now = this.options.now?.() ?? Date.now();
    if (now - this.failedAt < (this.options.retryAfterMs ?? 60_000)) return Promise.resolve(undefined);
    this.loading ??= this.readKey(now).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async readKey(now: number): Promise<KeyObject | undefined> {
    try {
      const pem = await this.options.loadPrivateKey();
      if (!pem) throw new Error('the signing secret is empty');
      this.key = createPrivateKey(pem);
      if (this.key.asymmetricKeyType !== 'rsa') throw new Error('the signing key is not an RSA key');
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
