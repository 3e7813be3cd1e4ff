import type { CoreDeps } from '../core/deps.ts';
import type { Principal } from '../core/model.ts';

/** A request as every host (node:http server, API Gateway v2 Lambda) hands it to the route table. */
export interface HttpRequest {
  readonly method: string;
  /** The raw path, still percent-encoded, without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body, already size-limited by the host (over 1 MiB the host answers 413 itself). */
  readonly body?: string;
  /**
   * For a host that streams the body: reads it (size-limited, throwing `TooLargeError` past 1 MiB).
   * Called only once the route is matched and the caller authenticated, so no byte of an
   * unauthenticated body is read. Takes the place of `body`.
   */
  readonly readBody?: () => Promise<string | undefined>;
  readonly requestId: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialised as JSON; absent for 204 and redirects. */
  readonly body?: unknown;
}

/**
 * Turns a request's credentials into a principal, or null when they are missing or invalid. Gets the
 * use cases' deps, for credentials the index holds (Arca tokens).
 */
export type Authenticator = (request: HttpRequest, deps: CoreDeps) => Promise<Principal | null>;

export interface ApiDeps extends CoreDeps {
  readonly authenticate: Authenticator;
}

/** Largest JSON request body accepted; larger ones answer 413 TooLarge. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;
