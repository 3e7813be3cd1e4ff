import { z } from 'zod';
import { listNamespaces, listPackages } from '../core/catalog.ts';
import { deleteVersion } from '../core/deletion.ts';
import { DELETE_REASON_MAX_LENGTH, deleteReasonOf } from '../core/deletionReason.ts';
import { ok, type Route, route } from './route.ts';
import { listQuerySchema, namespaceParams, noQuerySchema, versionParams } from './schemas.ts';

/** Why a version is deleted: required, one line of readable text, shown with it and in the audit log. */
const deleteQuerySchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1, 'a reason is required')
      .max(DELETE_REASON_MAX_LENGTH, `a reason has at most ${DELETE_REASON_MAX_LENGTH} characters`)
      .refine((r) => deleteReasonOf(r) !== undefined, 'a reason may not hold control characters'),
  })
  .strict();

/** Deleting versions, and finding namespaces and packages (issue 15). */
export const catalogRoutes: readonly Route[] = [
  route({
    method: 'DELETE',
    path: '/v1/packages/:ns/:pkg/versions/:version',
    auth: true,
    params: versionParams,
    query: deleteQuerySchema,
    handle: async ({ deps, caller, params, query }) => {
      await deleteVersion(deps, caller, {
        namespace: params.ns,
        package: params.pkg,
        version: params.version,
        reason: query.reason,
      });
      return { status: 204 };
    },
  }),
  route({
    method: 'GET',
    path: '/v1/namespaces',
    auth: true,
    query: noQuerySchema,
    handle: async ({ deps, caller }) => ok(await listNamespaces(deps, caller)),
  }),
  route({
    method: 'GET',
    path: '/v1/namespaces/:ns/packages',
    auth: true,
    params: namespaceParams,
    query: listQuerySchema,
    handle: async ({ deps, caller, params, query }) =>
      ok(await listPackages(deps, caller, { namespace: params.ns, ...query })),
  }),
];
