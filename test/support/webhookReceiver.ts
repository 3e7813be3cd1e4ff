import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  readonly headers: Record<string, string | undefined>;
  readonly body: string;
  /** What the receiver answered. */
  readonly status: number;
}

/** A webhook endpoint on 127.0.0.1 that answers each request with the next of `statuses` (then 204). */
export interface WebhookReceiver {
  readonly url: string;
  readonly requests: ReceivedDelivery[];
  /** The events it accepted (answered 2xx), in the order they arrived. */
  accepted(): any[];
  /** Resolves once `count` events were accepted; fails after `polls` looks 20 ms apart. */
  waitForAccepted(count: number, polls?: number): Promise<any[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(statuses: readonly number[] = []): Promise<WebhookReceiver> {
  const requests: ReceivedDelivery[] = [];
  const queue = [...statuses];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = queue.shift() ?? 204;
      requests.push({
        headers: req.headers as Record<string, string | undefined>,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const accepted = () => requests.filter((r) => r.status < 300).map((r) => JSON.parse(r.body));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    accepted,
    waitForAccepted: async (count, polls = 500) => {
      for (let i = 0; i < polls; i++) {
        if (accepted().length >= count) return accepted();
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`the receiver accepted ${accepted().length} events, not ${count}`);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Verifies a delivery's Standard Webhooks signature as a receiver would: HMAC-SHA256 keyed by the
 * secret's bytes over `webhook-id.webhook-timestamp.body`, compared in constant time.
 */
export function hasValidSignature(delivery: ReceivedDelivery, secret: string): boolean {
  const id = delivery.headers['webhook-id'];
  const timestamp = delivery.headers['webhook-timestamp'];
  const signatures = (delivery.headers['webhook-signature'] ?? '').split(' ');
  if (!id || !timestamp) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${delivery.body}`).digest();
  return signatures.some((s) => {
    const [version, value] = s.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}
