import { searchVersions } from '../core/search.ts';
import { ok, type Route, route } from './route.ts';
import { searchQuerySchema } from './schemas.ts';

/** Finding versions by content or by metadata (issue 15 § Search). */
export const searchRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/v1/search',
    auth: true,
    query: searchQuerySchema,
    handle: async ({ deps, caller, query }) => ok(await searchVersions(deps, caller, query)),
  }),
];
