import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  maxHeaderSize,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { PrometheusMetrics } from '../adapters/prometheus/prometheusMetrics.ts';
import type { CoreDeps } from '../core/deps.ts';
import { TooLargeError } from '../core/errors.ts';
import { createApi } from '../http/api.ts';
import { errorBody } from '../http/errors.ts';
import { type Authenticator, MAX_JSON_BODY_BYTES } from '../http/types.ts';
import { type ConsoleAssets, loadConsoleAssets } from './consoleAssets.ts';
import { answerMetrics, METRICS_PATH } from './metricsEndpoint.ts';

/** A backend as the local server hosts it: the use-case deps plus whatever serves its bytes. */
export interface HostedBackend {
  readonly deps: CoreDeps;
  /** Serves `/storage/*` (embedded signed URLs); absent on AWS, where S3 serves them. */
  readonly storage?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<number>;
  readonly storagePrefix?: string;
  /** What `/metrics` exposes; the server makes one (API metrics only) for a backend without. */
  readonly metrics?: PrometheusMetrics;
  close(): Promise<void>;
}

/** How long the server waits on a client. Every slow client is cut off, none holds the server. */
export interface ServerTimeouts {
  /** For the request line and headers. @default 10_000 */
  readonly headersMs: number;
  /**
   * A body that brings less than {@link STALL_BYTES} in this long is stalled and cut off (408). The
   * only limit on storage uploads, so a many-GiB upload runs for as long as it keeps moving.
   * @default 10_000
   */
  readonly bodyStallMs: number;
  /** For a whole JSON API body (at most 1 MiB). @default 20_000 */
  readonly jsonBodyMs: number;
  /** For the whole of any request, the backstop for a body that trickles just fast enough. @default 24 h */
  readonly requestMs: number;
  /** An idle keep-alive connection is closed after this long. @default 5_000 */
  readonly keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  bodyStallMs: 10_000,
  jsonBodyMs: 20_000,
  requestMs: 24 * 3600_000,
  keepAliveMs: 5_000,
};

/** The progress a body must make in each `bodyStallMs`: a byte every few seconds is a stall. */
export const STALL_BYTES = 1024;

export interface LocalServerOptions {
  /** Builds the backend once the server listens, given the URL it listens on (signed URLs need it). */
  readonly backend: (listenUrl: string) => Promise<HostedBackend>;
  readonly authenticate: Authenticator;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** One JSON line per request; defaults to stdout. */
  readonly log?: (line: Record<string, unknown>) => void;
  readonly timeouts?: Partial<ServerTimeouts>;
  /** A bearer token that may read `/metrics` and nothing else (`ARCA_METRICS_TOKEN`). */
  readonly metricsToken?: string;
  /** The web console served at `/`; default the repository's `console/` directory. */
  readonly console?: ConsoleAssets;
}

export interface LocalServer {
  readonly url: string;
  readonly backend: HostedBackend;
  readonly server: Server;
  /** Stops accepting, finishes in-flight requests, then closes the backend. */
  close(): Promise<void>;
}

/** On every answer the local server sends, API and storage alike. */
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/** Reads a JSON API body of at most 1 MiB. Past the limit it stops reading; the answer closes. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  const tooLarge = () => new TooLargeError(`JSON bodies are limited to ${MAX_JSON_BODY_BYTES} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > MAX_JSON_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_JSON_BODY_BYTES) {
        req.off('data', onData).pause();
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(size === 0 ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    req.once('close', () => reject(new Error('the client closed the connection mid-body')));
  });
}

/**
 * Watches a request body from now until it completes: `onTimeout` runs once it stalls (less than
 * STALL_BYTES in `stallMs`, not counting bytes waiting on us) or outlasts `totalMs`. Returns `stop`.
 */
function watchBody(
  req: IncomingMessage,
  limits: { stallMs: number; totalMs?: number },
  onTimeout: () => void,
): () => void {
  const started = Date.now();
  const socket = req.socket;
  let mark = { at: started, bytes: socket.bytesRead };
  const timer = setInterval(
    () => {
      if (req.complete) return clearInterval(timer);
      const now = Date.now();
      if (socket.bytesRead - mark.bytes >= STALL_BYTES || req.readableLength > 0) {
        mark = { at: now, bytes: socket.bytesRead };
      }
      const stalled = now - mark.at >= limits.stallMs;
      if (stalled || (limits.totalMs !== undefined && now - started >= limits.totalMs)) {
        clearInterval(timer);
        onTimeout();
      }
    },
    Math.max(50, Math.min(1000, limits.stallMs / 4)),
  );
  timer.unref();
  return () => clearInterval(timer);
}

/** How a request node:http refused is answered, by its error code; anything else is a 400. */
const CLIENT_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'InvalidRequest',
    message: `the request line and headers exceed ${maxHeaderSize} bytes`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'RequestTimeout',
    message: 'the request was not received in time',
  },
};
const MALFORMED = { status: 400, code: 'InvalidRequest', message: 'the request is not well-formed HTTP/1.1' };

/**
 * Answers, in the error envelope, a connection node:http refused (bad syntax, a head over 16 KiB, a
 * head or body not received in time), then closes it. Returns the status, if there was anyone to answer.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): number | undefined {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (!socket.writable || inFlight?.headersSent || error.code === 'ECONNRESET') {
    socket.destroy();
    return undefined;
  }
  const { status, code, message } = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
  const payload = JSON.stringify(errorBody(code, message));
  const head = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    connection: 'close',
    'x-request-id': randomUUID(),
    ...SECURITY_HEADERS,
  };
  const lines = Object.entries(head).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('')}\r\n${payload}`);
  (socket as Duplex & { destroySoon(): void }).destroySoon();
  return status;
}

const stdoutLog = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** Hosts the shared route table (and the embedded storage endpoint) on node:http. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const log = options.log ?? stdoutLog;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  let backend: HostedBackend;
  let api: ReturnType<typeof createApi>;
  let metrics: PrometheusMetrics;
  const consoleAssets = options.console ?? loadConsoleAssets();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    // Kept here: node:http clears `req.socket` once the request is destroyed.
    const socket = req.socket;
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const url = new URL(req.url ?? '/', 'http://local');
    let status: number;
    let failure: unknown;
    res.once('arca:error', (e) => {
      failure = e;
    });
    let timedOut = false;
    const cutOff = () => {
      timedOut = true;
      if (res.headersSent) return void socket.destroy();
      const payload = JSON.stringify(
        errorBody('RequestTimeout', 'the request body stalled or took too long'),
      );
      // Once answered, node:http lets go of the request: end its body so its reader stops waiting.
      res.once('close', () => req.destroy());
      res.writeHead(408, { 'content-type': 'application/json', connection: 'close' }).end(payload);
    };
    const asset = consoleAssets.serve(req, res, url.pathname);
    if (asset !== undefined) {
      status = asset;
    } else if (url.pathname === METRICS_PATH) {
      status = await answerMetrics(req, res, {
        metrics,
        deps: backend.deps,
        authenticate: options.authenticate,
        token: options.metricsToken,
      });
    } else if (backend.storage && backend.storagePrefix && url.pathname.startsWith(backend.storagePrefix)) {
      const stop = watchBody(req, { stallMs: timeouts.bodyStallMs }, cutOff);
      status = await backend.storage(req, res, url.pathname).finally(stop);
    } else {
      const result = await api({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers as Record<string, string | undefined>,
        readBody: () => {
          const limits = { stallMs: timeouts.bodyStallMs, totalMs: timeouts.jsonBodyMs };
          const stop = watchBody(req, limits, cutOff);
          return readBody(req).finally(stop);
        },
        requestId,
      });
      const { response } = result;
      // A body cut short by the client or by cutOff fails its read: that is no server failure.
      if (!timedOut && !socket.destroyed) failure = result.error;
      status = response.status;
      const out: Record<string, string> = { ...response.headers };
      // An answer given before the body was read (401, 404, 413…) closes rather than drain it.
      if (!req.complete) out.connection = 'close';
      if (timedOut || socket.destroyed) {
        // Already answered by cutOff, or no one left to answer.
      } else if (response.body === undefined) {
        res.writeHead(status, out).end();
      } else {
        out['content-type'] = 'application/json';
        res.writeHead(status, out).end(JSON.stringify(response.body));
      }
    }
    const line = {
      requestId,
      method: req.method,
      path: url.pathname.startsWith('/storage/') ? url.pathname.slice(0, 17) : url.pathname,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    };
    if (timedOut) return log({ level: 'warn', msg: 'request timed out', ...line, status: 408 });
    if (!failure && !res.writableEnded && socket.destroyed) {
      return log({ level: 'info', msg: 'client aborted', ...line });
    }
    log({
      level: failure ? 'error' : 'info',
      msg: 'request',
      ...line,
      status,
      ...(failure
        ? { error: failure instanceof Error ? (failure.stack ?? failure.message) : String(failure) }
        : {}),
    });
  };

  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      // How often node:http looks for expired heads; its 30 s default would let one outlive its timeout.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, timeouts.headersMs / 4)),
    },
    (req, res) => {
      const socket = req.socket;
      // Requests that arrive while the backend starts (recovery, migrations) wait rather than fail.
      isReady
        .then(() => handle(req, res))
        .catch((error) => {
          if (socket.destroyed) return log({ level: 'info', msg: 'client aborted', path: req.url });
          log({
            level: 'error',
            msg: 'unhandled',
            error: error instanceof Error ? error.stack : String(error),
          });
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify(errorBody('Internal', 'internal error')));
        });
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const status = answerClientError(error, socket);
    if (status) log({ level: 'info', msg: 'client error', code: error.code, status });
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
  metrics = backend.metrics ?? new PrometheusMetrics();
  api = createApi({
    ...backend.deps,
    metrics: backend.deps.metrics ?? metrics,
    authenticate: options.authenticate,
  });
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
