import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../core/events.ts';
import {
  listDeliveries,
  listWebhooks,
  MAX_WEBHOOKS,
  putWebhooks,
  WEBHOOK_SECRET_PATTERN,
} from '../core/webhooks.ts';
import { ok, type Route, route } from './route.ts';
import { namespaceParams, noQuerySchema } from './schemas.ts';

const eventTypeSchema = z.enum(Object.values(EVENT_TYPES) as [EventType, ...EventType[]]);

const webhookUrlSchema = z
  .string()
  .max(2048)
  .url('invalid webhook url')
  .refine((u) => /^https?:$/.test(new URL(u).protocol), 'a webhook url is http or https');

const webhookSchema = z
  .object({
    url: webhookUrlSchema,
    secret: z
      .string()
      .regex(WEBHOOK_SECRET_PATTERN, 'a webhook secret is whsec_ and the base64 of 24 to 64 random bytes'),
    types: z.array(eventTypeSchema).min(1).max(16).optional(),
  })
  .strict();

export const putWebhooksSchema = z
  .object({ webhooks: z.array(webhookSchema).max(MAX_WEBHOOKS, `at most ${MAX_WEBHOOKS} webhooks`) })
  .strict();

export const deliveriesQuerySchema = z
  .object({
    state: z.enum(['pending', 'delivered', 'failed']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/** A namespace's webhooks and their deliveries (docs/events.md). */
export const webhookRoutes: readonly Route[] = [
  route({
    method: 'PUT',
    path: '/v1/namespaces/:ns/webhooks',
    auth: true,
    params: namespaceParams,
    query: noQuerySchema,
    body: { schema: putWebhooksSchema },
    handle: async ({ deps, caller, params, body }) => ok(await putWebhooks(deps, caller, params.ns, body)),
  }),
  route({
    method: 'GET',
    path: '/v1/namespaces/:ns/webhooks',
    auth: true,
    params: namespaceParams,
    query: noQuerySchema,
    handle: async ({ deps, caller, params }) => ok(await listWebhooks(deps, caller, params.ns)),
  }),
  route({
    method: 'GET',
    path: '/v1/namespaces/:ns/webhooks/deliveries',
    auth: true,
    params: namespaceParams,
    query: deliveriesQuerySchema,
    handle: async ({ deps, caller, params, query }) =>
      ok(await listDeliveries(deps, caller, params.ns, query)),
  }),
];
