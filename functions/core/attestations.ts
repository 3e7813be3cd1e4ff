import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { authorize } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import {
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  SubjectMismatchError,
  TooLargeError,
  UntrustedSignatureError,
} from './errors.ts';
import { newId } from './ids.ts';
import type { AttestationRecord, DsseEnvelope, PublisherKey } from './model.ts';
import { policyFor } from './policies.ts';
import { type AttestationView, dssePae, IN_TOTO_PAYLOAD_TYPE } from './provenance.ts';
import type { VersionRef } from './versions.ts';
import { attestedSbomOf } from './vulns/attestedSboms.ts';

/**
 * Largest publisher attestation, as serialised JSON. It equals the hosts' JSON body limit (1 MiB),
 * which answers 413 first for a larger request; this bound holds for callers past the HTTP edge.
 */
export const MAX_ATTESTATION_BYTES = 1024 * 1024;

const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Stores a publisher's DSSE envelope (an SBOM, a build system's provenance, a cosign attestation) of
 * a version. Its in-toto subjects must all be files of the version; when the namespace's policy lists
 * publisher keys, one of them must verify a signature, else it is stored unverified.
 */
export async function addPublisherAttestation(
  deps: CoreDeps,
  caller: Caller,
  ref: VersionRef,
  envelope: DsseEnvelope,
): Promise<AttestationView> {
  authorize(caller.principal, ref.namespace, 'write');
  if (Buffer.byteLength(JSON.stringify(envelope)) > MAX_ATTESTATION_BYTES) {
    throw new TooLargeError(`attestations are limited to ${MAX_ATTESTATION_BYTES} bytes`);
  }
  const label = `${ref.namespace}/${ref.package}@${ref.version}`;
  const record = await deps.index.getVersion(ref.namespace, ref.package, ref.version);
  if (!record) throw new NotFoundError(`version ${label} not found`);
  if (record.state !== 'live')
    throw new ConflictError(
      `version ${label} is ${record.state === 'deleted' ? 'deleted' : 'being deleted'}`,
    );
  const payload = decodePayload(envelope);
  const statement = parseStatement(payload);
  const files = new Set(record.files.map((f) => f.sha256));
  const strangers = statement.digests.filter((d) => !files.has(d));
  if (strangers.length > 0) {
    throw new SubjectMismatchError(`subjects that are not files of ${label}: ${strangers.join(', ')}`, {
      details: { digests: strangers },
    });
  }
  const policy = await policyFor(deps, ref.namespace);
  const signedBy = trustedSigner(policy.publisherKeys ?? [], envelope, payload);
  const now = deps.clock.now();
  const sbom = await attestedSbomOf(statement.predicateType, statement.predicate, deps.advisories, now);
  const attestation: AttestationRecord = {
    id: newId(now),
    kind: 'publisher',
    predicateType: statement.predicateType,
    signedBy: signedBy ?? '',
    verified: signedBy !== undefined,
    envelope,
    createdAt: now.toISOString(),
    createdBy: caller.principal.id,
    ...(sbom ? { sbom } : {}),
  };
  await deps.index.putAttestation(ref, attestation, {
    at: now.toISOString(),
    actor: caller.principal.id,
    action: 'attestation.add',
    namespace: ref.namespace,
    target: label,
    requestId: caller.requestId,
    details: {
      id: attestation.id,
      kind: attestation.kind,
      predicateType: attestation.predicateType,
      verified: attestation.verified,
      signedBy: attestation.signedBy,
    },
  });
  const { createdAt, createdBy, ...view } = attestation;
  return view;
}

function decodePayload(envelope: DsseEnvelope): Buffer {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new InvalidRequestError(`payloadType must be ${IN_TOTO_PAYLOAD_TYPE}`, {
      details: { field: 'payloadType' },
    });
  }
  if (!BASE64.test(envelope.payload)) {
    throw new InvalidRequestError('payload must be base64', { details: { field: 'payload' } });
  }
  return Buffer.from(envelope.payload, 'base64');
}

/** The parts of an in-toto Statement (v1 or v0.1) the store relies on. */
function parseStatement(payload: Buffer): { predicateType: string; digests: string[]; predicate: unknown } {
  const invalid = (why: string) =>
    new InvalidRequestError(`payload is not an in-toto Statement: ${why}`, { details: { field: 'payload' } });
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  const s = statement as { _type?: unknown; subject?: unknown; predicateType?: unknown; predicate?: unknown };
  if (typeof s !== 'object' || s === null) throw invalid('not an object');
  if (typeof s._type !== 'string' || !STATEMENT_TYPES.includes(s._type)) {
    throw invalid(`_type must be one of ${STATEMENT_TYPES.join(', ')}`);
  }
  if (typeof s.predicateType !== 'string' || s.predicateType === '' || s.predicateType.length > 512) {
    throw invalid('predicateType must be a non-empty string of at most 512 characters');
  }
  if (!Array.isArray(s.subject) || s.subject.length === 0) throw invalid('subject must be a non-empty list');
  const digests = s.subject.map((subject: unknown, i) => {
    const sha256 = (subject as { digest?: { sha256?: unknown } } | null)?.digest?.sha256;
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
      throw invalid(`subject[${i}].digest.sha256 must be 64 hex digits`);
    }
    return sha256.toLowerCase();
  });
  return { predicateType: s.predicateType, digests: [...new Set(digests)], predicate: s.predicate };
}

/**
 * The id of the trusted key that verifies one of the envelope's signatures over the PAE; undefined
 * when the policy trusts no key. UntrustedSignatureError when it trusts some and none verifies.
 * Every key is tried against every signature: `keyid` is only a hint the signer chose.
 */
function trustedSigner(
  keys: readonly PublisherKey[],
  envelope: DsseEnvelope,
  payload: Buffer,
): string | undefined {
  if (keys.length === 0) return undefined;
  const signed = dssePae(envelope.payloadType, payload);
  for (const key of keys) {
    const publicKey = createPublicKey(key.publicKeyPem);
    for (const signature of envelope.signatures) {
      if (verifies(publicKey, signed, Buffer.from(signature.sig, 'base64'))) return key.keyId;
    }
  }
  throw new UntrustedSignatureError('no signature verifies with a publisher key the namespace trusts', {
    details: { trustedKeyIds: keys.map((k) => k.keyId) },
  });
}

/** ECDSA (DER) P-256 with SHA-256 or P-384 with SHA-384/256, RSA PKCS#1 v1.5 or PSS with SHA-256, Ed25519. */
function verifies(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const attempt = (algorithm: string | null, options: object = {}) => {
    try {
      return verify(algorithm, data, { key, ...options }, signature);
    } catch {
      return false; // a malformed signature is one that does not verify
    }
  };
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return attempt(null);
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve === 'secp384r1') {
        return attempt('sha384', { dsaEncoding: 'der' }) || attempt('sha256', { dsaEncoding: 'der' });
      }
      return attempt('sha256', { dsaEncoding: 'der' });
    case 'rsa':
      return (
        attempt('sha256', { padding: constants.RSA_PKCS1_PADDING }) ||
        attempt('sha256', {
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        })
      );
    case 'rsa-pss':
      return attempt('sha256', {
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_AUTO,
      });
    default:
      return false;
  }
}
