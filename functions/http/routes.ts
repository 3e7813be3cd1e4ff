import { resolveDownload } from '../core/downloads.ts';
import { abortUpload, commitUpload, createUpload } from '../core/uploads.ts';
import { getVersion, listVersions } from '../core/versions.ts';
import { accessRoutes } from './accessRoutes.ts';
import { attestationRoutes } from './attestationRoutes.ts';
import { catalogRoutes } from './catalogRoutes.ts';
import { lifecycleRoutes } from './lifecycleRoutes.ts';
import { openApiDocument } from './openapi.ts';
import { provenanceRoutes } from './provenanceRoutes.ts';
import { downloadResponse, ok, type Route, route } from './route.ts';
import {
  commitUploadSchema,
  createUploadSchema,
  downloadQuerySchema,
  fileParams,
  listVersionsQuerySchema,
  noQuerySchema,
  packageParams,
  uploadParams,
  versionParams,
} from './schemas.ts';
import { searchRoutes } from './searchRoutes.ts';
import { webhookRoutes } from './webhookRoutes.ts';

/** Publishing and fetching. */
const publishingRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/v1/health',
    auth: false,
    query: noQuerySchema,
    handle: async () => ok({ status: 'ok' }),
  }),
  route({
    method: 'GET',
    path: '/v1/openapi.json',
    auth: false,
    query: noQuerySchema,
    handle: async () => ok(openApi()),
  }),
  route({
    method: 'POST',
    path: '/v1/uploads',
    auth: true,
    query: noQuerySchema,
    body: { schema: createUploadSchema },
    handle: async ({ deps, caller, body }) => {
      const created = await createUpload(deps, caller, body);
      return ok(created, created.existing ? 200 : 201);
    },
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
    query: listVersionsQuerySchema,
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
    path: '/v1/packages/:ns/:pkg/versions/:version/files/:name*',
    auth: true,
    params: fileParams,
    query: downloadQuerySchema,
    handle: async ({ deps, caller, params, query }) => {
      const ref = { namespace: params.ns, package: params.pkg, version: params.version, file: params.name };
      return downloadResponse(await resolveDownload(deps, caller, ref), query.redirect);
    },
  }),
];

/** The route table, shared by the local server and the API Lambda handler. */
let document: unknown;
/** The OpenAPI document of this very table, built once (docs/openapi.json holds the same). */
const openApi = () => {
  document ??= openApiDocument(routes);
  return document;
};

export const routes: readonly Route[] = [
  ...publishingRoutes,
  ...lifecycleRoutes,
  ...accessRoutes,
  ...attestationRoutes,
  ...provenanceRoutes,
  ...catalogRoutes,
  ...webhookRoutes,
  ...searchRoutes,
];
