import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

const CHUNK = 4 * 1024 * 1024;

/**
 * A deterministic byte stream for `seed`: AES-256-CTR over zeros with a key derived from the seed.
 * Incompressible like real artifacts, identical on every run, and generated at GB/s.
 */
function keystream(seed: string) {
  const key = createHash('sha256').update(`arca-bench:${seed}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

/** `size` deterministic bytes for `seed`, held in memory (small files). */
export function deterministicBytes(seed: string, size: number): Buffer {
  return keystream(seed).update(Buffer.alloc(size));
}

/** Writes `size` deterministic bytes for `seed` to `path` in 4 MiB chunks. */
export async function writeDeterministicFile(path: string, size: number, seed: string): Promise<void> {
  const cipher = keystream(seed);
  const zeros = Buffer.alloc(CHUNK);
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'w');
  try {
    for (let offset = 0; offset < size; offset += CHUNK) {
      const chunk = cipher.update(zeros.subarray(0, Math.min(CHUNK, size - offset)));
      await handle.write(chunk, 0, chunk.length, offset);
    }
  } finally {
    await handle.close();
  }
}

/** Overwrites the first 16 bytes with `stamp`, so each repeat publishes new content (no dedupe). */
export async function stampFile(path: string, stamp: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(Buffer.from(stamp.padEnd(16, '.').slice(0, 16)), 0, 16, 0);
  } finally {
    await handle.close();
  }
}

/** The sha256 (hex) of a file, streamed in 4 MiB reads. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export const sha256Hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
