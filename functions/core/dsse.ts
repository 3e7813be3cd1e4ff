/**
 * The signing formats Arca's provenance uses, shared by the store that signs and the CLI that
 * verifies: the DSSE pre-authentication encoding, the in-toto/SLSA type URIs, and a key's id.
 * No dependency beyond node:crypto, so the standalone CLI bundles it as it is.
 */
import { createHash, type KeyObject } from 'node:crypto';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/** The DSSE pre-authentication encoding: `DSSEv1 <len> <type> <len> <body>`, byte lengths in ASCII decimal. */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

/** A store key's id: the lowercase hex sha256 of its SPKI DER, so anyone holding the PEM derives it. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}
