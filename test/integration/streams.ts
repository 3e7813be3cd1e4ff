import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const MIB = 1024 * 1024;

/**
 * A large file that exists only as a recipe: MiB `i` is a fixed pseudo-random block stamped with `i`.
 * Deterministic, distinct per MiB, and produced chunk by chunk so memory stays at one MiB.
 */
export class SyntheticFile {
  private readonly block: Buffer;

  constructor(
    readonly size: number,
    seed: string,
  ) {
    const blocks: Buffer[] = [];
    let digest = createHash('sha256').update(seed).digest();
    for (let filled = 0; filled < MIB; filled += digest.length) {
      blocks.push(digest);
      digest = createHash('sha256').update(digest).digest();
    }
    this.block = Buffer.concat(blocks).subarray(0, MIB);
  }

  /** The bytes in [start, start + length), MiB-aligned `start`, one MiB chunk at a time. */
  *range(start: number, length: number): Generator<Buffer> {
    for (let at = start; at < start + length; at += MIB) {
      const chunk = Buffer.from(this.block.subarray(0, Math.min(MIB, start + length - at)));
      chunk.writeUInt32BE(at / MIB, 0);
      yield chunk;
    }
  }

  sha256(): string {
    const hash = createHash('sha256');
    for (const chunk of this.range(0, this.size)) hash.update(chunk);
    return hash.digest('hex');
  }
}

/** PUTs a streamed body with exactly `headers` (node:http, so content-length is sent as given). */
export function putStream(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: Iterable<Buffer>,
): Promise<{ status: number; etag?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag }));
    });
    req.on('error', reject);
    pipeline(Readable.from(body), req).catch(reject);
  });
}

/** Streams a GET's body through sha256; answers the digest, the byte count and the response headers. */
export async function hashDownload(
  url: string,
): Promise<{ status: number; sha256: string; size: number; headers: Headers }> {
  const res = await fetch(url);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res.body ?? []) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { status: res.status, sha256: hash.digest('hex'), size, headers: res.headers };
}
