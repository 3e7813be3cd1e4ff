import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ADMIN_PRINCIPAL, bearerAuthenticator } from '../../functions/local/auth.ts';
import { createEmbeddedBackend, type EmbeddedBackend } from '../../functions/local/embeddedBackend.ts';
import { type LocalServer, type ServerTimeouts, startLocalServer } from '../../functions/local/server.ts';
import { ADMIN_TOKEN } from '../support/embedded.ts';

/** A local server over a fresh embedded store that keeps its log lines, so tests can read them. */
export interface LoggedServer {
  readonly server: LocalServer;
  readonly backend: EmbeddedBackend;
  readonly dataDir: string;
  readonly url: string;
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startLoggedServer(timeouts: Partial<ServerTimeouts> = {}): Promise<LoggedServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'arca-hardening-'));
  const logs: Record<string, unknown>[] = [];
  let backend: EmbeddedBackend | undefined;
  const server = await startLocalServer({
    port: 0,
    authenticate: bearerAuthenticator(new Map([[ADMIN_TOKEN, ADMIN_PRINCIPAL]])),
    log: (line) => logs.push(line),
    timeouts,
    backend: async (url) => {
      backend = await createEmbeddedBackend({ dataDir, publicUrl: url });
      return backend;
    },
  });
  return {
    server,
    backend: backend!,
    dataDir,
    url: server.url,
    logs,
    close: async () => {
      server.server.closeAllConnections();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One raw HTTP/1.1 connection: whatever the test writes, and whatever the server answers. */
export interface RawConnection {
  write(data: string | Buffer): void;
  /** Sends `byte` every `everyMs` until the connection closes. */
  drip(everyMs: number, chunk?: string): void;
  /** Resolves once the server (or the test) has closed the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  /** The raw answer received so far. */
  answer(): string;
  /** The status and parsed JSON body of the answer received so far. */
  parsed(): { status: number; headers: string; body: any };
  destroy(): void;
}

export function rawConnection(url: string): RawConnection {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  let isClosed = false;
  let dripping: NodeJS.Timeout | undefined;
  socket.on('data', (data: Buffer) => {
    received += data.toString('latin1');
  });
  socket.on('error', () => {}); // a reset is one way of being cut off; `closed` reports it
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      clearInterval(dripping);
      resolve();
    }),
  );
  return {
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    drip: (everyMs, chunk = 'x') => {
      dripping = setInterval(() => {
        if (!socket.destroyed) socket.write(chunk);
      }, everyMs);
    },
    closed,
    isClosed: () => isClosed,
    answer: () => received,
    parsed: () => {
      const split = received.indexOf('\r\n\r\n');
      const head = split < 0 ? received : received.slice(0, split);
      const rest = split < 0 ? '' : received.slice(split + 4);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const headers = head.toLowerCase();
      const body = headers.includes('transfer-encoding: chunked') ? dechunk(rest) : rest;
      return { status, headers, body: body ? JSON.parse(body) : undefined };
    },
    destroy: () => {
      clearInterval(dripping);
      socket.destroy();
    },
  };
}

/** The payload of a chunked body (as far as it has arrived). */
function dechunk(raw: string): string {
  let body = '';
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = eol < 0 ? 0 : Number.parseInt(raw.slice(at, eol), 16);
    if (!size) return body;
    body += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** `promise`, or a failure naming `what` if it has not settled within `ms` (a bound, not a benchmark). */
/**
 * A server for a describe block, with the raw connections its tests open: `connect()` opens one, and
 * every one still open is destroyed after each test.
 */
export function useLoggedServer(timeouts: Partial<ServerTimeouts> = {}) {
  const state: { server?: LoggedServer } = {};
  const open: RawConnection[] = [];
  beforeAll(async () => {
    state.server = await startLoggedServer(timeouts);
  });
  afterEach(() => {
    for (const connection of open.splice(0)) connection.destroy();
  });
  afterAll(async () => state.server?.close());
  return {
    get server(): LoggedServer {
      if (!state.server) throw new Error('the server starts in beforeAll');
      return state.server;
    },
    connect(): RawConnection {
      const connection = rawConnection(this.server.url);
      open.push(connection);
      return connection;
    },
  };
}

export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `find` until it returns something, for at most `ms`. */
export async function eventually<T>(find: () => T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The head of a request, as a client that has not sent its body yet has sent it. */
export function requestHead(method: string, url: string, headers: Record<string, string>): string {
  const { pathname, search, host } = new URL(url);
  const lines = Object.entries({ host, ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${method} ${pathname}${search} HTTP/1.1\r\n${lines.join('')}\r\n`;
}
