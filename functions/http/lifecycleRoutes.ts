import { listAuditEvents } from '../core/audit.ts';
import { resolveDownload } from '../core/downloads.ts';
import { planGarbageCollection, restoreVersion, runGarbageCollection } from '../core/gc.ts';
import { acquireLease, releaseLease, renewLease } from '../core/leases.ts';
import { getNamespacePolicy, putNamespacePolicy } from '../core/policies.ts';
import { getStage, promoteVersion, resolveStage } from '../core/stages.ts';
import { downloadResponse, ok, type Route, route } from './route.ts';
import {
  acquireLeaseSchema,
  auditQuerySchema,
  downloadQuerySchema,
  gcPlanSchema,
  gcRunSchema,
  leaseParams,
  namespaceParams,
  noQuerySchema,
  policySchema,
  promoteSchema,
  renewLeaseSchema,
  stageFileParams,
  stageParams,
  versionParams,
} from './schemas.ts';

const versionRef = (p: { ns: string; pkg: string; version: string }) => ({
  namespace: p.ns,
  package: p.pkg,
  version: p.version,
});

/** Stages, leases, policies, GC, restore and audit (shared/API.md). */
export const lifecycleRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/v1/packages/:ns/:pkg/versions/:version/promote',
    auth: true,
    params: versionParams,
    query: noQuerySchema,
    body: { schema: promoteSchema },
    handle: async ({ deps, caller, params, body }) =>
      ok(await promoteVersion(deps, caller, { ...versionRef(params), stage: body.stage })),
  }),
  route({
    method: 'POST',
    path: '/v1/packages/:ns/:pkg/versions/:version/restore',
    auth: true,
    params: versionParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) => ok(await restoreVersion(deps, caller, versionRef(params))),
  }),
  route({
    method: 'GET',
    path: '/v1/packages/:ns/:pkg/stages/:stage',
    auth: true,
    params: stageParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) =>
      ok(await getStage(deps, caller, { namespace: params.ns, package: params.pkg, stage: params.stage })),
  }),
  route({
    method: 'GET',
    path: '/v1/packages/:ns/:pkg/stages/:stage/files/:name*',
    auth: true,
    params: stageFileParams,
    query: downloadQuerySchema,
    handle: async ({ deps, caller, params, query }) => {
      const ref = await resolveStage(deps, caller, {
        namespace: params.ns,
        package: params.pkg,
        stage: params.stage,
      });
      return downloadResponse(
        await resolveDownload(deps, caller, { ...ref, file: params.name }),
        query.redirect,
      );
    },
  }),
  route({
    method: 'POST',
    path: '/v1/leases',
    auth: true,
    query: noQuerySchema,
    body: { schema: acquireLeaseSchema },
    handle: async ({ deps, caller, body }) => ok(await acquireLease(deps, caller, body), 201),
  }),
  route({
    method: 'POST',
    path: '/v1/leases/:leaseId/renew',
    auth: true,
    params: leaseParams,
    query: noQuerySchema,
    body: { schema: renewLeaseSchema },
    handle: async ({ deps, caller, params, body }) =>
      ok(await renewLease(deps, caller, params.leaseId, body.ttlSeconds)),
  }),
  route({
    method: 'DELETE',
    path: '/v1/leases/:leaseId',
    auth: true,
    params: leaseParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) => {
      await releaseLease(deps, caller, params.leaseId);
      return { status: 204 };
    },
  }),
  route({
    method: 'PUT',
    path: '/v1/namespaces/:ns/policy',
    auth: true,
    params: namespaceParams,
    query: noQuerySchema,
    body: { schema: policySchema },
    handle: async ({ deps, caller, params, body }) =>
      ok(await putNamespacePolicy(deps, caller, params.ns, body)),
  }),
  route({
    method: 'GET',
    path: '/v1/namespaces/:ns/policy',
    auth: true,
    params: namespaceParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) => ok(await getNamespacePolicy(deps, caller, params.ns)),
  }),
  route({
    method: 'POST',
    path: '/v1/gc/plan',
    auth: true,
    query: noQuerySchema,
    body: { schema: gcPlanSchema, optional: true },
    handle: async ({ deps, caller, body }) => ok(await planGarbageCollection(deps, caller, body)),
  }),
  route({
    method: 'POST',
    path: '/v1/gc/run',
    auth: true,
    query: noQuerySchema,
    body: { schema: gcRunSchema, optional: true },
    handle: async ({ deps, caller, body }) => {
      const { budgetSeconds, ...options } = body;
      return ok(
        await runGarbageCollection(deps, caller, {
          ...options,
          ...(budgetSeconds === undefined ? {} : { budgetMs: budgetSeconds * 1000 }),
        }),
      );
    },
  }),
  route({
    method: 'GET',
    path: '/v1/audit',
    auth: true,
    query: auditQuerySchema,
    handle: async ({ deps, caller, query }) => ok(await listAuditEvents(deps, caller, query)),
  }),
];
