/**
 * The reason a version is deleted with: required, shown with the version and in the audit log, so
 * one readable line. Dependency-free: the standalone CLI checks it before asking.
 */
export const DELETE_REASON_MAX_LENGTH = 512;

/** The reason as stored (trimmed), or undefined when it is empty, too long or holds control characters. */
export function deleteReasonOf(raw: string): string | undefined {
  const reason = raw.trim();
  if (reason.length === 0 || reason.length > DELETE_REASON_MAX_LENGTH || /\p{Cc}/u.test(reason))
    return undefined;
  return reason;
}
