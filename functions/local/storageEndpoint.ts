import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { type FsBlobStore, StorageRejectionError } from '../adapters/embedded/fsBlobStore.ts';
import type { UrlSigner } from '../adapters/embedded/urlSigner.ts';
import { errorBody } from '../http/errors.ts';
import type { Clock } from '../ports.ts';

export const STORAGE_PREFIX = '/storage/';

/** Test-only fault injection, by option: the part PUTs (numbered from 1 as they arrive) that answer 500. */
export interface StorageFaults {
  readonly failPartPuts?: readonly number[];
}

/**
 * The embedded backend's S3 stand-in: serves the signed upload and download URLs the blob store hands
 * out. It answers like S3 does (400 SizeMismatch/BadDigest, 403 for a bad or expired signature), in
 * the API's error envelope, and a rejected PUT leaves nothing behind.
 */
export function createStorageEndpoint(
  store: FsBlobStore,
  signer: UrlSigner,
  clock: Clock,
  faults: StorageFaults = {},
) {
  let partPuts = 0;
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<number> => {
    const socket = req.socket; // node:http clears `req.socket` once the request is destroyed
    const [kind, token] = path.slice(STORAGE_PREFIX.length).split('/');
    const verified = token
      ? signer.verify(token, clock.now().getTime())
      : ({ ok: false, reason: 'invalid' } as const);
    try {
      if (!verified.ok) {
        throw new StorageRejectionError(
          403,
          'Forbidden',
          verified.reason === 'expired' ? 'the URL has expired' : 'the URL signature is invalid',
        );
      }
      const grant = verified.grant;
      if (kind === 'upload' && req.method === 'PUT' && grant.op !== 'get') {
        if (grant.op === 'part' && faults.failPartPuts?.includes(++partPuts)) {
          for await (const _ of req) {
            // read the whole body first, so the client sees the 500 and not a reset connection
          }
          throw new StorageRejectionError(500, 'Internal', 'injected fault');
        }
        const { etag } =
          grant.op === 'put'
            ? await store.receivePut(grant, req.headers as never, req)
            : await store.receivePart(grant, req.headers as never, req);
        res.writeHead(200, { etag, 'content-length': '0' }).end();
        return 200;
      }
      if (kind === 'download' && (req.method === 'GET' || req.method === 'HEAD') && grant.op === 'get') {
        return await sendBlob(store, grant, req, res);
      }
      throw new StorageRejectionError(403, 'Forbidden', 'the URL does not grant this request');
    } catch (error) {
      // The client hung up or was cut off, or a download broke mid-body: no answer can follow.
      if (res.headersSent || socket.destroyed) {
        if (!socket.destroyed) res.emit('arca:error', error);
        res.destroy();
        return res.statusCode;
      }
      const rejection =
        error instanceof StorageRejectionError
          ? error
          : new StorageRejectionError(500, 'Internal', 'internal error');
      if (!(error instanceof StorageRejectionError)) res.emit('arca:error', error);
      const payload = JSON.stringify(errorBody(rejection.code, rejection.message));
      // The client may still be sending a body we refused: answer, then close instead of draining it.
      res
        .writeHead(rejection.status, { 'content-type': 'application/json', connection: 'close' })
        .end(payload);
      req.resume();
      return rejection.status;
    }
  };
}

async function sendBlob(
  store: FsBlobStore,
  grant: { sha256: string; name: string; mediaType: string },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<number> {
  const info = await stat(store.blobPath(grant.sha256)).catch(() => null);
  if (!info) throw new StorageRejectionError(404, 'NotFound', 'no such blob');
  const headers: Record<string, string> = {
    'content-type': grant.mediaType,
    'content-disposition': `attachment; filename="${grant.name}"`,
    etag: `"${grant.sha256}"`,
    'x-amz-checksum-sha256': Buffer.from(grant.sha256, 'hex').toString('base64'),
    'accept-ranges': 'bytes',
    'cache-control': 'private, max-age=31536000, immutable',
    // The bytes are whatever a publisher uploaded: a browser must never run or sniff them as a page.
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
  };
  const range = parseRange(req.headers.range, info.size);
  if (range === 'invalid') {
    res.writeHead(416, { 'content-range': `bytes */${info.size}` }).end();
    return 416;
  }
  const status = range ? 206 : 200;
  const length = range ? range.end - range.start + 1 : info.size;
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`;
  res.writeHead(status, { ...headers, 'content-length': String(length) });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return status;
  }
  // pipeline, not pipe: a client that hangs up mid-download ends the request and closes the file.
  await pipeline(store.openBlob(grant.sha256, range ?? undefined), res);
  return status;
}

/** A single `bytes=a-b` range (what resumable downloaders send); anything fancier gets the whole body. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header) : null;
  if (!m || (m[1] === '' && m[2] === '')) return null;
  const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start > end || start >= size ? 'invalid' : { start, end };
}
