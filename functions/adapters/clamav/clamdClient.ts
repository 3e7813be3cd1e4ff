import { connect, type Socket } from 'node:net';
import { ScanEngineError } from '../../core/scanErrors.ts';

/**
 * A client for clamd's own protocol (clamd(8)): `zINSTREAM` sends a stream as length-prefixed chunks
 * ended by a zero length, and clamd answers one NUL-terminated line. No maintained npm client speaks
 * it incrementally (the published ones want a whole Readable per call and TCP only), and the
 * protocol is a few lines, so it is here, with tests against a real clamd.
 */

export type ClamdAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** `unix:/run/clamav/clamd.ctl` or `tcp:127.0.0.1:3310`, as `ARCA_CLAMD` takes it. */
export function parseClamdAddress(text: string): ClamdAddress {
  if (text.startsWith('unix:') && text.length > 5) return { kind: 'unix', path: text.slice(5) };
  const tcp = /^tcp:(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (tcp && Number(tcp[2]) > 0 && Number(tcp[2]) < 65536) {
    return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]) };
  }
  throw new Error(`ARCA_CLAMD must be unix:/path/to/socket or tcp:host:port, not ${JSON.stringify(text)}`);
}

/** clamd could not be asked, or did not answer: the bytes were not scanned, which is never clean. */
export class ClamdUnavailableError extends ScanEngineError {
  constructor(message: string) {
    super('clamav', message);
  }
}

export type ClamdVerdict =
  | { readonly kind: 'clean' }
  | { readonly kind: 'found'; readonly signature: string }
  /** clamd refused to read on (StreamMaxLength, or a scan limit): the stream was not scanned whole. */
  | { readonly kind: 'limit'; readonly reason: string };

export interface ClamdVersion {
  /** `ClamAV 1.4.6` */
  readonly engine: string;
  /** The official database's version and date (`27467/Sun Nov 29 09:32:41 2026`), when one is loaded. */
  readonly database?: string;
}

export interface ClamdOptions {
  /** A connection idle this long (no answer, no progress) fails (default 120 s). */
  readonly idleTimeoutMs?: number;
}

export class ClamdClient {
  private readonly idleTimeoutMs: number;

  constructor(
    readonly address: ClamdAddress,
    options: ClamdOptions = {},
  ) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
  }

  async version(): Promise<ClamdVersion> {
    const connection = await this.open();
    connection.socket.end('zVERSION\0');
    const [engine, build, ...date] = (await connection.reply).split('/');
    if (!engine?.startsWith('ClamAV '))
      throw new ClamdUnavailableError(`clamd answered VERSION with ${engine}`);
    return build ? { engine, database: [build, ...date].join('/') } : { engine };
  }

  /** Opens one INSTREAM scan: write the bytes, then `end` for the verdict. */
  async instream(): Promise<ClamdStream> {
    const connection = await this.open();
    connection.socket.write('zINSTREAM\0');
    return new ClamdStream(connection);
  }

  private open(): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const target = this.address;
      const socket =
        target.kind === 'unix'
          ? connect({ path: target.path })
          : connect({ host: target.host, port: target.port });
      socket.setTimeout(this.idleTimeoutMs);
      const received: Buffer[] = [];
      let failure: Error | undefined;
      const reply = new Promise<string>((settle, fail) => {
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        socket.on('timeout', () => socket.destroy(new Error(`no answer in ${this.idleTimeoutMs} ms`)));
        socket.on('error', (error) => {
          failure ??= error;
        });
        socket.on('close', () => {
          const text = Buffer.concat(received).toString('utf8');
          const nul = text.indexOf('\0');
          // An answer counts even when writing failed after it: clamd answers, then hangs up.
          if (nul !== -1) settle(text.slice(0, nul));
          else
            fail(
              new ClamdUnavailableError(`clamd at ${describe(target)}: ${failure?.message ?? 'no answer'}`),
            );
        });
      });
      reply.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
      socket.once('connect', () => resolve({ socket, reply, failed: () => failure }));
      socket.once('error', (error) => {
        if (socket.connecting || !socket.writable) {
          reject(new ClamdUnavailableError(`clamd at ${describe(target)} is unreachable: ${error.message}`));
        }
      });
    });
  }
}

interface Connection {
  readonly socket: Socket;
  readonly reply: Promise<string>;
  failed(): Error | undefined;
}

export class ClamdStream {
  private readonly length = Buffer.alloc(4);

  constructor(private readonly connection: Connection) {}

  /** Sends one chunk; resolves once the socket can take more (clamd reads at its own pace). */
  write(chunk: Buffer): void | Promise<void> {
    if (chunk.length === 0 || this.connection.socket.destroyed) return;
    const header = Buffer.alloc(4);
    header.writeUInt32BE(chunk.length, 0);
    this.connection.socket.write(header);
    if (this.connection.socket.write(chunk)) return;
    return this.drained();
  }

  async end(): Promise<ClamdVerdict> {
    const { socket } = this.connection;
    if (!socket.destroyed) socket.end(this.length); // four zero bytes: the end of the stream
    return verdictOf(await this.connection.reply);
  }

  private drained(): Promise<void> {
    const { socket } = this.connection;
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }
}

/** `stream: OK`, `stream: Name FOUND`, `INSTREAM size limit exceeded. ERROR`, `… ERROR`. */
export function verdictOf(reply: string): ClamdVerdict {
  if (reply === 'stream: OK') return { kind: 'clean' };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) return { kind: 'found', signature: found[1]! };
  if (/size limit exceeded|Limits? exceeded/i.test(reply)) return { kind: 'limit', reason: reply };
  throw new ClamdUnavailableError(`clamd answered ${JSON.stringify(reply)}`);
}

const describe = (address: ClamdAddress): string =>
  address.kind === 'unix' ? `unix:${address.path}` : `tcp:${address.host}:${address.port}`;
