import type { z } from 'zod';
import type { Caller } from '../core/deps.ts';
import type { ApiDeps, HttpResponse } from './types.ts';

export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly caller: Caller;
  readonly deps: ApiDeps;
}

/** One route: its path pattern, the schema of each input, and the use case it calls. */
export interface Route<P = unknown, Q = unknown, B = unknown> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `/v1/uploads/:uploadId/commit`: `:name` segments are path parameters. */
  readonly path: string;
  /** false only for health. */
  readonly auth: boolean;
  readonly params?: z.ZodType<P, z.ZodTypeDef, unknown>;
  readonly query: z.ZodType<Q, z.ZodTypeDef, unknown>;
  /** Absent: the route takes no body. `optional`: an empty body parses as `{}`. */
  readonly body?: { readonly schema: z.ZodType<B, z.ZodTypeDef, unknown>; readonly optional?: boolean };
  handle(input: RouteInput<P, Q, B>): Promise<HttpResponse>;
}

export const route = <P, Q, B>(r: Route<P, Q, B>): Route => r as unknown as Route;
export const ok = (body: unknown, status = 200): HttpResponse => ({ status, body });

/** A signed download: 302 to it, or (`redirect=false`) the URL with its digest and size as JSON. */
export function downloadResponse(download: { url: string }, redirect: 'true' | 'false'): HttpResponse {
  if (redirect === 'false') return ok(download);
  return { status: 302, headers: { location: download.url, 'cache-control': 'no-store' } };
}
