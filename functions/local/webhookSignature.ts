import { createHmac } from 'node:crypto';

/**
 * The Standard Webhooks headers of a delivery (standardwebhooks.com): `webhook-id` (the event id, the
 * same on every retry, for the receiver to dedupe), `webhook-timestamp` (seconds), and
 * `webhook-signature`, `v1,` + base64 HMAC-SHA256 over `id.timestamp.body` keyed by the secret's bytes.
 */
export function webhookHeaders(
  secret: string,
  id: string,
  at: Date,
  body: string,
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
