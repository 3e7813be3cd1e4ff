import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CloudFrontDownloads, signCloudFrontUrl } from '../../functions/adapters/aws/cloudFrontUrls.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** The policy a canned signature covers: CloudFront rebuilds it from the URL and `Expires`. */
const cannedPolicy = (url: string, expires: number): string =>
  JSON.stringify({
    Statement: [{ Resource: url, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }],
  });

/** Checks a signed URL the way CloudFront does: rebuild the canned policy, verify with the public key. */
function verifyAsCloudFront(signed: string, key: KeyObject) {
  const url = new URL(signed);
  const expires = Number(url.searchParams.get('Expires'));
  const signature = url.searchParams.get('Signature')!;
  const resource = signed.slice(0, signed.indexOf(url.search.includes('?Expires') ? '?Expires' : '&Expires'));
  const bytes = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
  return {
    valid: verify('RSA-SHA256', Buffer.from(cannedPolicy(resource, expires)), key, bytes),
    resource,
    expires,
    keyPairId: url.searchParams.get('Key-Pair-Id'),
    hash: url.searchParams.get('Hash-Algorithm'),
  };
}

describe('signCloudFrontUrl', () => {
  it('signs a canned policy over the URL and its own query string, verifiable with the public key', () => {
    const base = 'https://d111.cloudfront.net/blobs/sha256/ab/abc?response-content-type=application%2Fgzip';
    const expiresAt = new Date('2026-11-28T12:00:00Z');

    const checked = verifyAsCloudFront(signCloudFrontUrl(base, 'K2JCJMDEHXQW5F', pem, expiresAt), publicKey);

    expect(checked).toEqual({
      valid: true,
      resource: base,
      expires: expiresAt.getTime() / 1000,
      keyPairId: 'K2JCJMDEHXQW5F',
      hash: 'SHA256',
    });
  });

  it('is refused by another key and for another resource', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const signed = signCloudFrontUrl('https://d111.cloudfront.net/a', 'K1', pem, new Date());

    expect(verifyAsCloudFront(signed, other).valid).toBe(false);
    expect(verifyAsCloudFront(signed.replace('/a?', '/b?'), publicKey).valid).toBe(false);
  });
});

describe('CloudFrontDownloads', () => {
  const expiresAt = new Date('2026-11-28T12:00:00Z');

  it('signs object keys on the distribution domain once the key loads', async () => {
    const cdn = new CloudFrontDownloads({
      domain: 'd111.cloudfront.net',
      keyPairId: 'K1',
      loadPrivateKey: async () => pem,
    });

    const signed = await cdn.sign('blobs/sha256/ab/ab12', 'response-content-type=text%2Fplain', expiresAt);

    const url = new URL(signed!);
    expect(url.host).toBe('d111.cloudfront.net');
    expect(url.pathname).toBe('/blobs/sha256/ab/ab12');
    expect(verifyAsCloudFront(signed!, publicKey).valid).toBe(true);
  });

  it('answers undefined while the secret holds no usable key, then switches once it does', async () => {
    let clock = 0;
    let secret: string | undefined = 'a-generated-password-not-a-pem';
    let loads = 0;
    const warnings: string[] = [];
    const cdn = new CloudFrontDownloads({
      domain: 'd111.cloudfront.net',
      keyPairId: 'K1',
      loadPrivateKey: async () => {
        loads++;
        return secret;
      },
      retryAfterMs: 60_000,
      now: () => clock,
      onKeyUnavailable: (reason) => warnings.push(reason),
    });

    expect(await cdn.sign('blobs/x', '', expiresAt)).toBeUndefined();
    secret = pem;
    clock = 59_000;
    expect(await cdn.sign('blobs/x', '', expiresAt)).toBeUndefined(); // not asked again yet
    clock = 61_000;
    expect(await cdn.sign('blobs/x', '', expiresAt)).toMatch(
      /^https:\/\/d111\.cloudfront\.net\/blobs\/x\?Expires=/,
    );
    await cdn.sign('blobs/y', '', expiresAt);

    expect(loads).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('serving S3 URLs');
  });

  it('refuses a key that is not RSA', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const warnings: string[] = [];
    const cdn = new CloudFrontDownloads({
      domain: 'd111.cloudfront.net',
      keyPairId: 'K1',
      loadPrivateKey: async () => ec.toString(),
      onKeyUnavailable: (reason) => warnings.push(reason),
    });

    expect(await cdn.sign('blobs/x', '', expiresAt)).toBeUndefined();
    expect(warnings[0]).toContain('not an RSA key');
  });
});
