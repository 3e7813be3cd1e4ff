import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * One call of EventBridge's JSON API (`AWSEvents.<Action>`), signed by the SDK's own SigV4 signer.
 * The EventBridge SDK client is not among the project's dependencies; its wire protocol is a POST of
 * JSON with an `x-amz-target` header, which this sends exactly.
 */
export interface EventBridgeTarget {
  readonly region: string;
  /** An emulator's endpoint; default the region's public one. */
  readonly endpoint?: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export class EventBridgeError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventBridgeError';
  }
}

export async function callEventBridge<T = Record<string, unknown>>(
  target: EventBridgeTarget,
  action: string,
  input: Record<string, unknown>,
): Promise<T> {
  const url = new URL(target.endpoint ?? `https://events.${target.region}.amazonaws.com/`);
  const body = JSON.stringify(input);
  const signer = new SignatureV4({
    service: 'events',
    region: target.region,
    credentials: target.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${action}`,
    },
    body,
  });
  const res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  const text = await res.text();
  const answer = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) {
    const type = String(answer.__type ?? 'Unknown')
      .split('#')
      .pop()!;
    throw new EventBridgeError(res.status, type, String(answer.message ?? answer.Message ?? text));
  }
  return answer as T;
}
