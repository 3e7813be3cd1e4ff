/**
 * Typed domain errors. Each carries the machine-readable `code` of the HTTP contract; the mapping to
 * an HTTP status lives at the edge (`functions/http/errors.ts`), never here.
 */
export type ErrorCode =
  | 'InvalidRequest'
  | 'Unauthenticated'
  | 'Forbidden'
  | 'NotFound'
  | 'VersionExists'
  | 'NotPromotable'
  | 'StageOrderViolation'
  | 'StageImmutable'
  | 'Conflict'
  | 'UploadExpired'
  | 'TooLarge'
  | 'UploadIncomplete'
  | 'SizeMismatch'
  | 'DigestMismatch'
  | 'PolicyViolation'
  | 'SubjectMismatch'
  | 'UntrustedSignature'
  | 'Throttled'
  | 'VersionDeleted'
  | 'Protected';

/** Base of every error the domain raises on purpose. Anything else is a bug and becomes a bare 500. */
export abstract class ArcaError extends Error {
  abstract readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options?.details;
  }
}

export class InvalidRequestError extends ArcaError {
  readonly code = 'InvalidRequest';
}
export class UnauthenticatedError extends ArcaError {
  readonly code = 'Unauthenticated';
}
export class ForbiddenError extends ArcaError {
  readonly code = 'Forbidden';
}
export class NotFoundError extends ArcaError {
  readonly code = 'NotFound';
}
export class VersionExistsError extends ArcaError {
  readonly code = 'VersionExists';
}
export class NotPromotableError extends ArcaError {
  readonly code = 'NotPromotable';
}
export class StageOrderViolationError extends ArcaError {
  readonly code = 'StageOrderViolation';
}
export class StageImmutableError extends ArcaError {
  readonly code = 'StageImmutable';
}
export class ConflictError extends ArcaError {
  readonly code = 'Conflict';
}
export class UploadExpiredError extends ArcaError {
  readonly code = 'UploadExpired';
}
export class TooLargeError extends ArcaError {
  readonly code = 'TooLarge';
}
export class UploadIncompleteError extends ArcaError {
  readonly code = 'UploadIncomplete';
}
export class SizeMismatchError extends ArcaError {
  readonly code = 'SizeMismatch';
}
export class DigestMismatchError extends ArcaError {
  readonly code = 'DigestMismatch';
}
/** A promotion the namespace's gates refuse; `details.reasons` names each unmet gate. */
export class PolicyViolationError extends ArcaError {
  readonly code = 'PolicyViolation';
}
/** An attestation whose subjects are not files of the version it is posted to. */
export class SubjectMismatchError extends ArcaError {
  readonly code = 'SubjectMismatch';
}
/** An attestation no trusted publisher key of the namespace verifies. */
export class UntrustedSignatureError extends ArcaError {
  readonly code = 'UntrustedSignature';
}
export class ThrottledError extends ArcaError {
  readonly code = 'Throttled';
}
/** The version was deleted by a namespace admin: its files are never served again. */
export class VersionDeletedError extends ArcaError {
  readonly code = 'VersionDeleted';
}
/** A delete refused while stages point at the version or leases hold it (`details.stages`, `leases`). */
export class ProtectedError extends ArcaError {
  readonly code = 'Protected';
}
