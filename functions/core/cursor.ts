import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidRequestError } from './errors.ts';

/**
 * Opaque, tamper-checked pagination cursors. The index hands out a backend-specific position; the
 * client only ever sees it bound to the listing it came from and signed, so a forged or edited
 * cursor is a 400, never a scan from an arbitrary key.
 */
export class CursorCodec {
  private resolved: Uint8Array | undefined;

  /**
   * `key` may be a function, called on first use: a process that never pages (the scan worker) then
   * never needs the key at all.
   */
  constructor(private readonly key: Uint8Array | (() => Uint8Array)) {}

  encode(scope: string, position: string): string {
    const body = Buffer.from(JSON.stringify({ s: scope, p: position })).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  decode(scope: string, cursor: string): string {
    const [body, mac, extra] = cursor.split('.');
    if (!body || !mac || extra !== undefined) throw badCursor();
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw badCursor();
    const parsed: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    if (!isCursorBody(parsed) || parsed.s !== scope) throw badCursor();
    return parsed.p;
  }

  private sign(body: string): string {
    this.resolved ??= typeof this.key === 'function' ? this.key() : this.key;
    return createHmac('sha256', this.resolved).update(body).digest('base64url').slice(0, 32);
  }
}

function isCursorBody(v: unknown): v is { s: string; p: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { s?: unknown }).s === 'string' &&
    typeof (v as { p?: unknown }).p === 'string'
  );
}

const badCursor = () => new InvalidRequestError('invalid cursor', { details: { field: 'cursor' } });

export const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Decodes an index adapter's `next` position: a JSON array with one element per check, each passing
 * its check. Anything else is a 400 `invalid cursor`.
 */
export function parsePosition(after: string, checks: readonly ((v: unknown) => boolean)[]): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(after);
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(value) || value.length !== checks.length || !checks.every((ok, i) => ok(value[i]))) {
    throw badCursor();
  }
  return value;
}
