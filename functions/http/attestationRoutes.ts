import { addPublisherAttestation } from '../core/attestations.ts';
import { ok, type Route, route } from './route.ts';
import { dsseEnvelopeSchema, noQuerySchema, versionParams } from './schemas.ts';

/**
 * Publisher attestations. The body is the envelope, so the hosts' 1 MiB JSON limit is the
 * attestation's limit: a request of exactly 1 MiB is read, one byte more answers 413 TooLarge.
 */
export const attestationRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/v1/packages/:ns/:pkg/versions/:version/attestations',
    auth: true,
    params: versionParams,
    query: noQuerySchema,
    body: { schema: dsseEnvelopeSchema },
    handle: async ({ deps, caller, params, body }) => {
      const ref = { namespace: params.ns, package: params.pkg, version: params.version };
      return ok(await addPublisherAttestation(deps, caller, ref, body), 201);
    },
  }),
];
