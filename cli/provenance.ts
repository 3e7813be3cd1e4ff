/**
 * Verification of the store's provenance attestation (issue 13): the DSSE signature over the PAE,
 * the in-toto subjects against the version's files and local bytes, and the publisher identity the
 * store signed. Pure: no I/O, so every refusal can be tested with an envelope built in the test.
 */
import { type KeyObject, verify } from 'node:crypto';
// The same matching as the namespace trust rules and the promotion gates: exact, or a trailing-* prefix.
import { claimMatches } from '../functions/core/access.ts';
import {
  dssePae,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  keyIdOf,
  SLSA_PROVENANCE_V1,
} from '../functions/core/dsse.ts';
import type { DsseEnvelope } from '../functions/core/model.ts';
import { IntegrityError } from './errors.ts';

export { IN_TOTO_PAYLOAD_TYPE, keyIdOf, SLSA_PROVENANCE_V1 };

/** Why a verification failed: each is exit 4 with a one-line reason. */
export type ProvenanceFailure =
  | 'MissingAttestation'
  | 'WrongKey'
  | 'SubjectMismatch'
  | 'TamperedFile'
  | 'IdentityMismatch';

export class ProvenanceError extends IntegrityError {
  constructor(
    readonly failure: ProvenanceFailure,
    message: string,
  ) {
    super(message, failure);
  }
}

/** A public key `arca verify` trusts; without a `keyId` it is tried against every signature. */
export interface TrustedKey {
  readonly key: KeyObject;
  readonly keyId?: string;
  /** Where it came from, for messages: a PEM path, or `store key <id>`. */
  readonly source: string;
}

export interface Subject {
  readonly name: string;
  readonly digest: { readonly sha256?: string };
}

export interface Statement {
  readonly _type: string;
  readonly subject: readonly Subject[];
  readonly predicateType: string;
  readonly predicate?: Readonly<Record<string, unknown>>;
}

/** A file as the version lists it, or as hashed from disk (`name` = the path given). */
export interface NamedDigest {
  readonly name: string;
  readonly sha256: string;
}

/** True when `key` is an ECDSA P-256 public key, the only algorithm the store signs with. */
export const isP256 = (key: KeyObject): boolean =>
  key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';

/**
 * Checks that one of the envelope's signatures verifies over the PAE with a trusted key and returns
 * that key's id. A signature names its key (`keyid`): a key with a known id is only tried against
 * signatures naming it; a key without one is tried against every signature.
 */
export function verifyEnvelopeSignature(envelope: DsseEnvelope, keys: readonly TrustedKey[]): string {
  const message = dssePae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  const tried: string[] = [];
  for (const signature of envelope.signatures) {
    const keyid = signature.keyid ?? '';
    for (const trusted of keys) {
      if (trusted.keyId !== undefined && trusted.keyId !== keyid) continue;
      tried.push(trusted.source);
      if (verifiesWith(trusted.key, message, Buffer.from(signature.sig, 'base64'))) {
        return keyid || (trusted.keyId ?? trusted.source);
      }
    }
  }
  const named = envelope.signatures.map((s) => s.keyid || '(no keyid)').join(', ') || 'no signature';
  throw new ProvenanceError(
    'WrongKey',
    tried.length === 0
      ? `the provenance is signed by ${named}, none of the trusted keys (${keys.map((k) => k.source).join(', ')})`
      : `the provenance signature (${named}) does not verify with ${[...new Set(tried)].join(', ')}`,
  );
}

function verifiesWith(key: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false; // a malformed DER signature is a signature that does not verify
  }
}

/** The envelope's in-toto Statement; call it only after the signature verified. */
export function parseStatement(envelope: DsseEnvelope): Statement {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new ProvenanceError('MissingAttestation', `the provenance payload is ${envelope.payloadType}`);
  }
  let statement: Statement;
  try {
    statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement;
  } catch {
    throw new ProvenanceError('MissingAttestation', 'the provenance payload is not JSON');
  }
  if (
    statement?._type !== IN_TOTO_STATEMENT_V1 ||
    !Array.isArray(statement.subject) ||
    statement.predicateType !== SLSA_PROVENANCE_V1
  ) {
    throw new ProvenanceError('MissingAttestation', 'the provenance payload is not an SLSA v1 statement');
  }
  return statement;
}

/** The signed subjects must be exactly the version's files: same names, same sha256. */
export function checkSubjects(statement: Statement, files: readonly NamedDigest[]): void {
  const signed = new Map(statement.subject.map((s) => [s.name, s.digest.sha256]));
  if (signed.size !== statement.subject.length) {
    throw new ProvenanceError('SubjectMismatch', 'the provenance names a subject twice');
  }
  for (const file of files) {
    const digest = signed.get(file.name);
    if (digest === undefined) {
      throw new ProvenanceError('SubjectMismatch', `${file.name} is a file of the version but no subject`);
    }
    if (digest !== file.sha256) {
      throw new ProvenanceError(
        'SubjectMismatch',
        `${file.name}: the version lists sha256:${file.sha256}, the provenance signed sha256:${digest}`,
      );
    }
  }
  const listed = new Set(files.map((f) => f.name));
  const extra = [...signed.keys()].find((name) => !listed.has(name));
  if (extra !== undefined) {
    throw new ProvenanceError('SubjectMismatch', `${extra} is a subject but no file of the version`);
  }
}

/**
 * The subject a local path stands for: the longest subject name the path equals or ends with
 * (`deploy/dist/app.js` is `dist/app.js`), so a fetched tree verifies from any directory.
 */
export function subjectOfPath(statement: Statement, path: string): Subject | undefined {
  const normalized = path.replaceAll('\\', '/');
  return statement.subject
    .filter((s) => normalized === s.name || normalized.endsWith(`/${s.name}`))
    .sort((a, b) => b.name.length - a.name.length)[0];
}

/** Each local file must be a subject, with the signed sha256. */
export function checkLocalFiles(statement: Statement, locals: readonly NamedDigest[]): void {
  for (const local of locals) {
    const subject = subjectOfPath(statement, local.name);
    if (!subject) {
      throw new ProvenanceError('TamperedFile', `${local.name} is not a subject of the provenance`);
    }
    if (subject.digest.sha256 !== local.sha256) {
      throw new ProvenanceError(
        'TamperedFile',
        `${local.name} hashes to sha256:${local.sha256}, the provenance signed sha256:${subject.digest.sha256}`,
      );
    }
  }
}

/** Constraints on the publisher's verified CI claims: a value, or a prefix with a trailing `*`. */
export interface IdentityConstraints {
  readonly repository?: string;
  readonly ref?: string;
}

/** Each constraint must match the publisher's verified claim of that name. */
export function checkIdentity(statement: Statement, constraints: IdentityConstraints): void {
  const wanted = Object.entries(constraints).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  if (wanted.length === 0) return;
  const claims = publisherClaims(statement.predicate);
  for (const [name, pattern] of wanted) {
    const value = claims[name];
    if (!claimMatches(pattern, value)) {
      throw new ProvenanceError(
        'IdentityMismatch',
        value === undefined
          ? `the publisher has no verified ${name} claim; --${name} ${pattern} required`
          : `published from ${name} ${value}, not ${pattern}`,
      );
    }
  }
}

/**
 * The verified CI claims of the publisher the store authenticated at commit, where the store's
 * predicate records it: `buildDefinition.internalParameters.publisher` (`{id, kind, claims}`).
 * Only that place counts: client-supplied metadata (in `externalParameters`) never does.
 */
export function publisherClaims(predicate: unknown): Readonly<Record<string, string>> {
  const claims = field(
    field(field(field(predicate, 'buildDefinition'), 'internalParameters'), 'publisher'),
    'claims',
  );
  if (typeof claims !== 'object' || claims === null) return {};
  return Object.fromEntries(
    Object.entries(claims).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

const field = (value: unknown, name: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;

/** Everything `arca verify` checks, in order; returns the id of the key that signed. */
export function verifyProvenance(input: {
  envelope: DsseEnvelope | undefined;
  keys: readonly TrustedKey[];
  files: readonly NamedDigest[];
  locals: readonly NamedDigest[];
  identity: IdentityConstraints;
}): { keyId: string; statement: Statement } {
  if (!input.envelope) throw new ProvenanceError('MissingAttestation', 'the version has no store provenance');
  const keyId = verifyEnvelopeSignature(input.envelope, input.keys);
  const statement = parseStatement(input.envelope);
  checkSubjects(statement, input.files);
  checkLocalFiles(statement, input.locals);
  checkIdentity(statement, input.identity);
  return { keyId, statement };
}
