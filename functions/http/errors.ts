import { ZodError } from 'zod';
import { ArcaError, type ErrorCode } from '../core/errors.ts';
import type { HttpResponse } from './types.ts';

/** The one place a domain error becomes an HTTP status (shared/API.md § Errors). */
const STATUS: Record<ErrorCode, number> = {
  InvalidRequest: 400,
  Unauthenticated: 401,
  Forbidden: 403,
  NotFound: 404,
  VersionExists: 409,
  NotPromotable: 409,
  StageOrderViolation: 409,
  StageImmutable: 409,
  Conflict: 409,
  UploadExpired: 410,
  TooLarge: 413,
  UploadIncomplete: 422,
  SizeMismatch: 422,
  DigestMismatch: 422,
  PolicyViolation: 409,
  SubjectMismatch: 422,
  UntrustedSignature: 422,
  Throttled: 429,
  VersionDeleted: 410,
  Protected: 409,
};

/**
 * A known path asked with a method it does not serve: 405 with an `allow` header. Raised by the
 * router, not the domain, so it lives here rather than among core's errors.
 */
export class MethodNotAllowedError extends Error {
  readonly code = 'MethodNotAllowed';

  constructor(
    readonly allow: readonly string[],
    message: string,
  ) {
    super(message);
    this.name = 'MethodNotAllowedError';
  }
}

export const errorBody = (code: string, message: string, details?: unknown) => ({
  error: { code, message, ...(details === undefined ? {} : { details }) },
});

export function errorResponse(
  status: number,
  code: string,
  message: string,
  details?: unknown,
): HttpResponse {
  return { status, body: errorBody(code, message, details) };
}

/** Maps anything thrown by a route to a response; `unexpected` is true for the bare 500 case. */
export function toErrorResponse(error: unknown): { response: HttpResponse; unexpected: boolean } {
  if (error instanceof MethodNotAllowedError) {
    const response = errorResponse(405, error.code, error.message, { allow: error.allow });
    return { response: { ...response, headers: { allow: error.allow.join(', ') } }, unexpected: false };
  }
  if (error instanceof ArcaError) {
    const details = error.details && Object.keys(error.details).length > 0 ? error.details : undefined;
    return {
      response: errorResponse(STATUS[error.code], error.code, error.message, details),
      unexpected: false,
    };
  }
  if (error instanceof ZodError) {
    const issues = error.issues.map((i) => ({
      path: i.path.join('.'),
      message: i.message,
      // A custom check names why it refused (a file name's `dotSegment`, `duplicateName`, …).
      ...(i.code === 'custom' && typeof i.params?.reason === 'string' ? { reason: i.params.reason } : {}),
    }));
    const first = issues[0];
    const message = first ? `${first.path || 'request'}: ${first.message}` : 'invalid request';
    return { response: errorResponse(400, 'InvalidRequest', message, { issues }), unexpected: false };
  }
  return { response: errorResponse(500, 'Internal', 'internal error'), unexpected: true };
}
