import { createHash } from 'node:crypto';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * A small keep-alive HTTP/1.1 client on node:http. Every contender (Arca, the registry, the raw
 * storage PUT) goes through this same client so their latencies carry the same client overhead.
 * An idle socket is closed after 4 s, before the Arca server closes it (5 s): a request sent on a
 * socket the server is closing at that instant fails with "socket hang up" (a full bench run lost
 * its large-publish case to it, after the small publishes' sockets sat idle while 256 MiB were hashed).
 */
export const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HttpRequestOptions {
  readonly method: string;
  readonly headers?: Record<string, string>;
  /** A buffer, a string, or a stream piped as the body. */
  readonly body?: Buffer | string | Readable;
}

/** Sends one request and buffers the response body. */
export function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method, headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = options.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    }
  });
}

/** Sends a JSON request and parses the JSON answer; fails on a status outside `expect`. */
export async function jsonRequest<T>(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: unknown,
  expect: readonly number[] = [200, 201],
): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const res = await httpRequest(url, {
    method,
    headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: payload,
  });
  if (!expect.includes(res.status)) {
    throw new Error(`${method} ${url} answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
  }
  return (res.body.length > 0 ? JSON.parse(res.body.toString('utf8')) : undefined) as T;
}

/** Streams a GET body through sha256 without keeping it; resolves with the status, size and digest. */
export function downloadHashing(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        hash.update(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, size, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
