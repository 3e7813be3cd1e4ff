import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CoreDeps } from '../core/deps.ts';
import { createApi } from '../http/api.ts';
import { errorBody } from '../http/errors.ts';
import { type Authenticator, MAX_JSON_BODY_BYTES } from '../http/types.ts';

/** A backend as the local server hosts it: the use-case deps plus whatever serves its bytes. */
export interface HostedBackend {
  readonly deps: CoreDeps;
  /** Serves `/storage/*` (embedded signed URLs); absent on AWS, where S3 serves them. */
  readonly storage?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<number>;
  readonly storagePrefix?: string;
  close(): Promise<void>;
}

export interface LocalServerOptions {
  /** Builds the backend once the server listens, given the URL it listens on (signed URLs need it). */
  readonly backend: (listenUrl: string) => Promise<HostedBackend>;
  readonly authenticate: Authenticator;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** One JSON line per request; defaults to stdout. */
  readonly log?: (line: Record<string, unknown>) => void;
}

export interface LocalServer {
  readonly url: string;
  readonly backend: HostedBackend;
  readonly server: Server;
  /** Stops accepting, finishes in-flight requests, then closes the backend. */
  close(): Promise<void>;
}

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_JSON_BODY_BYTES) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return size === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

const stdoutLog = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** Hosts the shared route table (and the embedded storage endpoint) on node:http. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const log = options.log ?? stdoutLog;
  let backend: HostedBackend;
  let api: ReturnType<typeof createApi>;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://local');
    let status: number;
    let failure: unknown;
    res.once('arca:error', (e) => {
      failure = e;
    });
    if (backend.storage && backend.storagePrefix && url.pathname.startsWith(backend.storagePrefix)) {
      status = await backend.storage(req, res, url.pathname);
    } else {
      let body: string | undefined;
      try {
        body = await readBody(req);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(
          JSON.stringify(errorBody('TooLarge', `JSON bodies are limited to ${MAX_JSON_BODY_BYTES} bytes`)),
        );
        log({
          level: 'info',
          msg: 'request',
          requestId,
          method: req.method,
          path: url.pathname,
          status: 413,
        });
        return;
      }
      const headers = req.headers as Record<string, string | undefined>;
      const result = await api({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers,
        body,
        requestId,
      });
      const { response } = result;
      failure = result.error;
      status = response.status;
      const out: Record<string, string> = { ...response.headers };
      if (response.body === undefined) {
        res.writeHead(status, out).end();
      } else {
        const payload = JSON.stringify(response.body);
        out['content-type'] = 'application/json';
        res.writeHead(status, out).end(payload);
      }
    }
    log({
      level: failure ? 'error' : 'info',
      msg: 'request',
      requestId,
      method: req.method,
      path: url.pathname.startsWith('/storage/') ? url.pathname.slice(0, 17) : url.pathname,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      ...(failure
        ? { error: failure instanceof Error ? (failure.stack ?? failure.message) : String(failure) }
        : {}),
    });
  };

  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const server = createServer({ keepAliveTimeout: 5000, requestTimeout: 0 }, (req, res) => {
    // Requests that arrive while the backend starts (recovery, migrations) wait rather than fail.
    isReady
      .then(() => handle(req, res))
      .catch((error) => {
        log({
          level: 'error',
          msg: 'unhandled',
          error: error instanceof Error ? error.stack : String(error),
        });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(errorBody('Internal', 'internal error')));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7070, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;
  try {
    backend = await options.backend(url);
  } catch (error) {
    server.close();
    throw error;
  }
  api = createApi({ ...backend.deps, authenticate: options.authenticate });
  ready();
  return {
    url,
    backend,
    server,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await backend.close();
    },
  };
}
