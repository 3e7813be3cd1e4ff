import type { WebhookStore } from '../ports.ts';
import { authorize } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { ConflictError } from './errors.ts';
import type { EventType } from './events.ts';
import { newId } from './ids.ts';

/** A webhook secret as Standard Webhooks writes it: `whsec_` and the base64 of 24 to 64 random bytes. */
export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

/** How many webhooks one namespace may have. */
export const MAX_WEBHOOKS = 10;

/** A webhook as stored: where to POST, the Standard Webhooks secret to sign with, which types. */
export interface WebhookRecord {
  readonly id: string;
  readonly url: string;
  /** `whsec_<base64>`: the key is the decoded bytes. Never answered by the API. */
  readonly secret: string;
  /** Absent: every version and lease event of the namespace. */
  readonly types?: readonly EventType[];
  readonly createdAt: string;
  readonly createdBy: string;
}

export type WebhookView = Omit<WebhookRecord, 'secret'>;

export interface DeliveryView {
  readonly webhookId: string;
  readonly eventId: string;
  readonly type: string;
  readonly subject: string;
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt: string | null;
  /** The HTTP status of the last attempt, or null when it got none (refused, timed out). */
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: string | null;
}

function webhooksOf(deps: CoreDeps): WebhookStore {
  if (deps.webhooks) return deps.webhooks;
  // The AWS stack sends events to its EventBridge bus instead; nothing here would ever deliver.
  throw new ConflictError(
    "this store delivers events to its EventBridge bus, not to webhooks: add a rule on the stack's bus (docs/events.md)",
    { details: { reason: 'webhooksNotHosted' } },
  );
}

const view = ({ secret: _, ...rest }: WebhookRecord): WebhookView => rest;

/**
 * `PUT /v1/namespaces/:ns/webhooks` (namespace admin): replaces the namespace's webhooks. Events
 * already in the outbox keep going to the webhooks they were addressed to while those exist.
 */
export async function putWebhooks(
  deps: CoreDeps,
  caller: Caller,
  namespace: string,
  input: { readonly webhooks: readonly { url: string; secret: string; types?: readonly EventType[] }[] },
): Promise<{ webhooks: WebhookView[] }> {
  authorize(caller.principal, namespace, 'admin');
  const store = webhooksOf(deps);
  const now = deps.clock.now();
  const records: WebhookRecord[] = input.webhooks.map((w) => ({
    id: newId(now),
    url: w.url,
    secret: w.secret,
    ...(w.types ? { types: [...new Set(w.types)] } : {}),
    createdAt: now.toISOString(),
    createdBy: caller.principal.id,
  }));
  await store.putWebhooks(namespace, records, {
    at: now.toISOString(),
    actor: caller.principal.id,
    action: 'webhooks.put',
    namespace,
    target: namespace,
    requestId: caller.requestId,
    details: { webhooks: records.map((r) => ({ id: r.id, url: r.url, types: r.types ?? null })) },
  });
  return { webhooks: records.map(view) };
}

/** `GET /v1/namespaces/:ns/webhooks` (namespace admin): the webhooks, without their secrets. */
export async function listWebhooks(
  deps: CoreDeps,
  caller: Caller,
  namespace: string,
): Promise<{ webhooks: WebhookView[] }> {
  authorize(caller.principal, namespace, 'admin');
  return { webhooks: (await webhooksOf(deps).listWebhooks(namespace)).map(view) };
}

/** `GET /v1/namespaces/:ns/webhooks/deliveries` (namespace admin): newest first, failures visible. */
export async function listDeliveries(
  deps: CoreDeps,
  caller: Caller,
  namespace: string,
  query: { readonly state?: DeliveryView['state']; readonly limit: number },
): Promise<{ items: DeliveryView[] }> {
  authorize(caller.principal, namespace, 'admin');
  return { items: await webhooksOf(deps).listDeliveries(namespace, query) };
}
