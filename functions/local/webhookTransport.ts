import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses a webhook may not reach unless the operator allows it (`ARCA_WEBHOOK_ALLOW_PRIVATE=1`):
 * loopback, private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, unspecified
 * and multicast. A namespace admin sets webhooks; without this, one could make the store POST to
 * services only the store's host can reach.
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** True for an address a webhook may not reach by default (IPv4-mapped IPv6 judged as its IPv4). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class WebhookAddressError extends Error {
  constructor(host: string, address: string) {
    super(
      `${host} resolves to ${address}, a private address webhooks may not reach (ARCA_WEBHOOK_ALLOW_PRIVATE)`,
    );
    this.name = 'WebhookAddressError';
  }
}

/**
 * The resolver the connection itself uses: every address DNS answers is checked, and the socket
 * connects to a checked one, so a name cannot resolve to a public address for a check and a private
 * one for the connection.
 */
function guardedLookup(host: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const all = addresses as unknown as LookupAddress[];
      const refused = all.find((a) => isPrivateAddress(a.address));
      if (refused) return callback(new WebhookAddressError(host, refused.address), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, all);
      const first = all[0]!;
      callback(null, first.address, first.family);
    });
  };
}

export interface WebhookPost {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
  /** Reach loopback and private addresses too (a store whose consumers are on its own network). */
  readonly allowPrivate: boolean;
}

/** POSTs one delivery and answers the status; redirects are not followed. */
export function postWebhook(post: WebhookPost): Promise<number> {
  const url = new URL(post.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!post.allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) {
    return Promise.reject(new WebhookAddressError(host, host));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...post.headers, 'content-length': Buffer.byteLength(post.body) },
        timeout: post.timeoutMs,
        ...(post.allowPrivate ? {} : { lookup: guardedLookup(host) }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${post.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(post.body);
  });
}
