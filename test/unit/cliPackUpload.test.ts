import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { refusesPacks } from '../../cli/commands/publish.ts';
import { httpErrorOf, IntegrityError } from '../../cli/errors.ts';
import type { LocalFile } from '../../cli/files.ts';
import { planPackUpload } from '../../cli/upload.ts';
import { toErrorResponse } from '../../functions/http/errors.ts';
import { createUploadSchema } from '../../functions/http/schemas.ts';
import { content } from '../support/fixtures.ts';

const retry = { retries: 3, baseDelayMs: 1, maxDelayMs: 1 };
const progress = { add: () => {}, finish: () => {} };

describe('planPackUpload', () => {
  let dir: string;
  let server: Server;
  let url: string;
  /** Every PUT the storage stand-in received: its headers and its whole body. */
  let received: { length: string | undefined; body: Buffer }[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arca-pack-'));
    received = [];
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of req) chunks.push(chunk as Buffer);
      } catch {
        return; // the client gave up mid-body
      }
      received.push({ length: req.headers['content-length'], body: Buffer.concat(chunks) });
      res.writeHead(200, { etag: '"pack"' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pack`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const local = async (name: string, data: Buffer, declared = data.length): Promise<LocalFile> => {
    const path = join(dir, name);
    await writeFile(path, data);
    const sha256 = createHash('sha256').update(data).digest('hex');
    return { path, name, size: declared, sha256, mediaType: 'application/octet-stream' };
  };
  const signed = (size: number) => ({
    method: 'PUT' as const,
    url,
    headers: { 'content-length': String(size) },
    size,
  });

  it('sends the files one after another in one PUT of the signed length, empty and over-1-MiB runs included', async () => {
    const data = [
      ...Array.from({ length: 40 }, (_, i) => content(`many-${i}`, 60 * 1024)),
      Buffer.alloc(0),
      content('last', 10),
    ];
    const files = await Promise.all(data.map((d, i) => local(`f${i}`, d)));
    const size = data.reduce((n, d) => n + d.length, 0);

    await planPackUpload(files, signed(size), progress, { retry })();

    expect(received).toHaveLength(1);
    expect(received[0]!.length).toBe(String(size));
    expect(received[0]!.body.equals(Buffer.concat(data))).toBe(true);
  });

  it('refuses, without retrying, a file whose size changed since it was hashed', async () => {
    const a = await local('a', content('a', 100));
    const changed = await local('b', content('b', 120), 100);

    const put = planPackUpload([a, changed], signed(200), progress, { retry });

    await expect(put()).rejects.toBeInstanceOf(IntegrityError);
    expect(received).toHaveLength(0);
  });

  it('refuses a pack whose declared size is not the sum of its files before sending anything', () => {
    expect(() => planPackUpload([], signed(1), progress, { retry })).toThrow(IntegrityError);
  });
});

describe('refusesPacks', () => {
  /** What a store answers a request its strict schema does not know a field of, as the CLI reads it. */
  const answerTo = (schema: z.ZodTypeAny, body: unknown) => {
    const parsed = schema.safeParse(body);
    const { response } = toErrorResponse(parsed.error);
    return httpErrorOf(response.status, JSON.stringify(response.body));
  };

  it('recognises the 400 of a store from before packs, and no other refusal', () => {
    const before = createUploadSchema.innerType().omit({ pack: true }).strict();
    const declared = { namespace: 'demo', package: 'app', version: '1.0.0', files: [] };

    expect(refusesPacks(answerTo(before, { ...declared, pack: true }))).toBe(true);
    expect(refusesPacks(answerTo(before, { ...declared, other: true }))).toBe(false);
    expect(refusesPacks(answerTo(createUploadSchema, { ...declared, pack: 'yes' }))).toBe(false);
  });
});
