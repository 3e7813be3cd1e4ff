/**
 * The CLI's exit codes (docs/cli.md § Exit codes) and the one error type that carries them. Every
 * failure becomes a `CliError` before it reaches `main`, which prints it and exits with its code.
 */
export const EXIT = {
  ok: 0,
  usage: 1,
  notFound: 2,
  conflict: 3,
  integrity: 4,
  auth: 5,
  transient: 10,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** The server's error code (`VersionExists`, …) when the server sent one. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(EXIT.usage, message);
  }
}

export class IntegrityError extends CliError {
  constructor(message: string, code = 'IntegrityError') {
    super(EXIT.integrity, message, code);
  }
}

/** A failure worth retrying (5xx, 429, network): `withRetry` retries these and only these. */
export class TransientError extends CliError {
  constructor(message: string, code = 'Transient', options?: { cause?: unknown }) {
    super(EXIT.transient, message, code, options);
  }
}

/** An error answer from the API or from storage, in the contract's `{error:{code,message}}` envelope. */
export class HttpError extends CliError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly requestId?: string,
    readonly details?: unknown,
  ) {
    super(exitCodeOf(status, code), message, code);
  }
}

/** Maps a status (and the storage codes that mean "the bytes differ") to an exit code. */
export function exitCodeOf(status: number, code: string): ExitCode {
  if (code === 'SizeMismatch' || code === 'BadDigest' || code === 'DigestMismatch') return EXIT.integrity;
  // Gone for good, unlike an expired upload session: retrying or starting again cannot help.
  if (code === 'VersionDeleted') return EXIT.notFound;
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 422) return EXIT.integrity;
  if (status === 408 || status === 410 || status === 429 || status >= 500) return EXIT.transient;
  return EXIT.usage;
}

export const isTransient = (error: unknown): boolean =>
  error instanceof TransientError || (error instanceof HttpError && isTransientStatus(error.status));

/** 410 is transient for a whole publish (start again), not for one request: never retried in place. */
const isTransientStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/** Parses an error response body into an `HttpError`, tolerating bodies that are not the envelope. */
export function httpErrorOf(status: number, body: string, requestId?: string): HttpError {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string; details?: unknown } };
    if (parsed.error?.code) {
      return new HttpError(
        status,
        parsed.error.code,
        parsed.error.message ?? '',
        requestId,
        parsed.error.details,
      );
    }
  } catch {
    // not JSON: fall through to a generic message
  }
  return new HttpError(status, `HTTP${status}`, body.slice(0, 200) || `HTTP ${status}`, requestId);
}
