import { createToken, listTokens, revokeToken, whoAmI } from '../core/tokens.ts';
import { ok, type Route, route } from './route.ts';
import { createTokenSchema, noQuerySchema, tokenParams } from './schemas.ts';

/** Tokens and the caller's own identity. */
export const accessRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/v1/tokens',
    auth: true,
    query: noQuerySchema,
    body: { schema: createTokenSchema },
    handle: async ({ deps, caller, body }) => ok(await createToken(deps, caller, body), 201),
  }),
  route({
    method: 'GET',
    path: '/v1/tokens',
    auth: true,
    query: noQuerySchema,
    handle: async ({ deps, caller }) => ok(await listTokens(deps, caller)),
  }),
  route({
    method: 'DELETE',
    path: '/v1/tokens/:id',
    auth: true,
    params: tokenParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) => {
      await revokeToken(deps, caller, params.id);
      return { status: 204 };
    },
  }),
  route({
    method: 'GET',
    path: '/v1/whoami',
    auth: true,
    query: noQuerySchema,
    handle: async ({ caller }) => ok(whoAmI(caller)),
  }),
];
