import { listStoreKeys, listVersionAttestations, rotateStoreKey } from '../core/provenance.ts';
import { ok, type Route, route } from './route.ts';
import { noQuerySchema, versionParams } from './schemas.ts';

/** The store's signing keys and the attestations of versions (docs/provenance.md). */
export const provenanceRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/v1/keys',
    auth: false,
    query: noQuerySchema,
    handle: async ({ deps }) => ok(await listStoreKeys(deps)),
  }),
  route({
    method: 'POST',
    path: '/v1/keys/rotate',
    auth: true,
    query: noQuerySchema,
    handle: async ({ deps, caller }) => ok(await rotateStoreKey(deps, caller)),
  }),
  route({
    method: 'GET',
    path: '/v1/packages/:ns/:pkg/versions/:version/attestations',
    auth: true,
    params: versionParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) =>
      ok(
        await listVersionAttestations(deps, caller, {
          namespace: params.ns,
          package: params.pkg,
          version: params.version,
        }),
      ),
  }),
];
