import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isPrivateAddress,
  postWebhook,
  WebhookAddressError,
} from '../../functions/local/webhookTransport.ts';

describe('webhook transport', () => {
  let server: Server;
  let port: number;
  let received = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      received++;
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const post = (host: string, allowPrivate: boolean) =>
    postWebhook({
      url: `http://${host}:${port}/hook`,
      headers: {},
      body: '{}',
      timeoutMs: 2000,
      allowPrivate,
    });

  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['100.64.0.1', true],
    ['169.254.169.254', true],
    ['172.16.0.1', true],
    ['192.168.1.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:169.254.169.254', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['2606:4700::1111', false],
  ])('judges %s private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it('refuses a loopback literal and a name resolving to loopback before connecting, unless allowed', async () => {
    const before = received;

    await expect(post('127.0.0.1', false)).rejects.toBeInstanceOf(WebhookAddressError);
    await expect(post('localhost', false)).rejects.toBeInstanceOf(WebhookAddressError);
    expect(received).toBe(before);

    expect(await post('127.0.0.1', true)).toBe(204);
    expect(received).toBe(before + 1);
  });
});
