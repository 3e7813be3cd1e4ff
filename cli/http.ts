import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { CliError, httpErrorOf, TransientError } from './errors.ts';

/**
 * The CLI's one HTTP transport: node:http with keep-alive agents, so parallel parts reuse their
 * connections, and bodies that are streams piped straight from disk with an explicit content-length.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/** A connection idle this long is treated as dead (and the request retried as transient). */
const IDLE_TIMEOUT_MS = 120_000;

export interface RawRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string/Buffer, or a factory for a fresh stream (called once per attempt). */
  readonly body?: string | Buffer | (() => Readable);
}

/** Sends a request and resolves with the response head; the caller consumes the body. */
export function send(request: RawRequest): Promise<IncomingMessage> {
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new TransientError(`unsupported URL scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    let answered = false;
    // The body refused to go on (a file that changed since it was hashed): that refusal, not a
    // network error, is the answer, and it is not retried.
    let refusal: CliError | undefined;
    const req = transport.request(url, { method: request.method, headers: request.headers, agent });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error('ETIMEDOUT')));
    req.on('response', (res) => {
      answered = true;
      resolve(res);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A server that refuses a body answers and closes while we still write: keep its answer.
      if (answered) return;
      if (refusal) return reject(refusal);
      reject(
        new TransientError(`${request.method} ${url.host}: ${error.code ?? error.message}`, 'NetworkError', {
          cause: error,
        }),
      );
    });
    const { body } = request;
    if (body === undefined) req.end();
    else if (typeof body === 'function') {
      const stream = body();
      stream.on('error', (error) => {
        if (error instanceof CliError) refusal = error;
        req.destroy(error);
      });
      stream.pipe(req);
    } else req.end(body);
  });
}

export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch (error) {
    throw new TransientError('the connection closed while reading a response', 'NetworkError', {
      cause: error,
    });
  }
  return Buffer.concat(chunks).toString('utf8');
}

const requestIdOf = (res: IncomingMessage) => {
  const id = res.headers['x-request-id'];
  return Array.isArray(id) ? id[0] : id;
};

/** Throws the response's error envelope as an `HttpError` unless the status is 2xx (or 3xx if allowed). */
export async function ensureOk(res: IncomingMessage): Promise<IncomingMessage> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return res;
  throw httpErrorOf(status, await readText(res), requestIdOf(res));
}

/** Sends a request and parses the JSON answer; `undefined` for an empty body (204). */
export async function sendJson<T>(request: RawRequest): Promise<T> {
  const res = await ensureOk(await send(request));
  const text = await readText(res);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}
