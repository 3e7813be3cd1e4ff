import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DsseEnvelope } from '../../functions/core/model.ts';

/** The DSSE PAE, written out here from the spec rather than imported, so the test checks the store's. */
export function paeOf(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `),
    payload,
  ]);
}

/** `openssl dgst -sha256 -verify key.pem -signature sig.der pae.bin`: true when it prints Verified OK. */
export function opensslVerifies(publicKeyPem: string, signature: Buffer, message: Buffer): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'arca-dsse-'));
  try {
    writeFileSync(join(dir, 'key.pem'), publicKeyPem);
    writeFileSync(join(dir, 'sig.der'), signature);
    writeFileSync(join(dir, 'pae.bin'), message);
    const run = spawnSync(
      'openssl',
      ['dgst', '-sha256', '-verify', 'key.pem', '-signature', 'sig.der', 'pae.bin'],
      { cwd: dir, encoding: 'utf8' },
    );
    if (run.error) throw run.error;
    return run.status === 0 && run.stdout.includes('Verified OK');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function nodeVerifies(publicKeyPem: string, signature: Buffer, message: Buffer): boolean {
  return verify('sha256', message, { key: createPublicKey(publicKeyPem), dsaEncoding: 'der' }, signature);
}

/** Both verifiers' answers for an envelope (its first signature) and a public key. */
export function verdictsOf(
  envelope: DsseEnvelope,
  publicKeyPem: string,
): { openssl: boolean; node: boolean } {
  const message = paeOf(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  const signature = Buffer.from(envelope.signatures[0]!.sig, 'base64');
  return {
    openssl: opensslVerifies(publicKeyPem, signature, message),
    node: nodeVerifies(publicKeyPem, signature, message),
  };
}

/** The envelope with one byte of its payload, or of its signature, flipped. */
export function tampered(envelope: DsseEnvelope, part: 'payload' | 'signature'): DsseEnvelope {
  const flip = (b64: string, at: number) => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[at % bytes.length]! ^= 0x01;
    return bytes.toString('base64');
  };
  if (part === 'payload') return { ...envelope, payload: flip(envelope.payload, 40) };
  const [first, ...rest] = envelope.signatures;
  return { ...envelope, signatures: [{ ...first!, sig: flip(first!.sig, 20) }, ...rest] };
}
