import type { z } from 'zod';
import type { Caller } from '../core/deps.ts';
import { resolveDownload } from '../core/downloads.ts';
import { abortUpload, commitUpload, createUpload } from '../core/uploads.ts';
import { getVersion, listVersions } from '../core/versions.ts';
import {
  commitUploadSchema,
  createUploadSchema,
  downloadQuerySchema,
  fileParams,
  listQuerySchema,
  noQuerySchema,
  packageParams,
  uploadParams,
  versionParams,
} from './schemas.ts';
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

const route = <P, Q, B>(r: Route<P, Q, B>): Route => r as unknown as Route;
const ok = (body: unknown, status = 200): HttpResponse => ({ status, body });

/** The route table, shared by the local server and the API Lambda handler. */
export const routes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/v1/health',
    auth: false,
    query: noQuerySchema,
    handle: async () => ok({ status: 'ok' }),
  }),
  route({
    method: 'POST',
    path: '/v1/uploads',
    auth: true,
    query: noQuerySchema,
    body: { schema: createUploadSchema },
    handle: async ({ deps, caller, body }) => ok(await createUpload(deps, caller, body), 201),
  }),
  route({
    method: 'POST',
    path: '/v1/uploads/:uploadId/commit',
    auth: true,
    params: uploadParams,
    query: noQuerySchema,
    body: { schema: commitUploadSchema, optional: true },
    handle: async ({ deps, caller, params, body }) => {
      const parts = new Map(body.files.map((f) => [f.name, f.parts]));
      return ok(await commitUpload(deps, caller, { uploadId: params.uploadId, parts }));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/uploads/:uploadId',
    auth: true,
    params: uploadParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) => {
      await abortUpload(deps, caller, params.uploadId);
      return { status: 204 };
    },
  }),
  route({
    method: 'GET',
    path: '/v1/packages/:ns/:pkg/versions',
    auth: true,
    params: packageParams,
    query: listQuerySchema,
    handle: async ({ deps, caller, params, query }) =>
      ok(await listVersions(deps, caller, { namespace: params.ns, package: params.pkg, ...query })),
  }),
  route({
    method: 'GET',
    path: '/v1/packages/:ns/:pkg/versions/:version',
    auth: true,
    params: versionParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) =>
      ok(
        await getVersion(deps, caller, {
          namespace: params.ns,
          package: params.pkg,
          version: params.version,
        }),
      ),
  }),
  route({
    method: 'GET',
    path: '/v1/packages/:ns/:pkg/versions/:version/files/:name',
    auth: true,
    params: fileParams,
    query: downloadQuerySchema,
    handle: async ({ deps, caller, params, query }) => {
      const ref = { namespace: params.ns, package: params.pkg, version: params.version, file: params.name };
      const download = await resolveDownload(deps, caller, ref);
      if (query.redirect === 'false') return ok(download);
      return { status: 302, headers: { location: download.url, 'cache-control': 'no-store' } };
    },
  }),
];
