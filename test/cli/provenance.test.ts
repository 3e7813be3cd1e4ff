import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  IN_TOTO_PAYLOAD_TYPE,
  keyIdOf,
  type NamedDigest,
  publisherClaims,
  SLSA_PROVENANCE_V1,
  type TrustedKey,
  verifyProvenance,
} from '../../cli/provenance.ts';
import { dssePae } from '../../functions/core/dsse.ts';
import type { DsseEnvelope } from '../../functions/core/model.ts';

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const storeKey = newKey();
const otherKey = newKey();

const FILES: NamedDigest[] = [
  { name: 'api.tar.gz', sha256: 'a'.repeat(64) },
  { name: 'dist/js/app.js', sha256: 'b'.repeat(64) },
];

const CLAIMS = { repository: 'org/payments', ref: 'refs/heads/main', workflow: 'release' };

function statement(files = FILES, claims: Record<string, string> | null = CLAIMS) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: files.map((f) => ({ name: f.name, digest: { sha256: f.sha256 } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        internalParameters: {
          publisher: { id: 'ci', kind: claims ? 'oidc' : 'token', ...(claims ? { claims } : {}) },
        },
      },
    },
  };
}

function envelope(
  body: unknown = statement(),
  key: KeyObject = storeKey.privateKey,
  keyid = 'k1',
): DsseEnvelope {
  const payload = Buffer.from(JSON.stringify(body));
  const sig = sign('sha256', dssePae(IN_TOTO_PAYLOAD_TYPE, payload), { key, dsaEncoding: 'der' });
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid, sig: sig.toString('base64') }],
  };
}

const pinned: TrustedKey[] = [{ key: storeKey.publicKey, source: 'pub.pem' }];

function check(overrides: Partial<Parameters<typeof verifyProvenance>[0]> = {}) {
  return verifyProvenance({
    envelope: envelope(),
    keys: pinned,
    files: FILES,
    locals: [],
    identity: {},
    ...overrides,
  });
}

const failureOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
  return 'verified';
};

describe('dssePae', () => {
  it('encodes type and body with their byte lengths, as the DSSE spec gives it', () => {
    expect(dssePae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    expect(dssePae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });
});

describe('verifyProvenance', () => {
  it('verifies an envelope signed by a pinned key and returns the signature keyid', () => {
    expect(check().keyId).toBe('k1');
  });

  it('verifies with a store key whose keyid matches, retired or not', () => {
    const keys = [
      { key: otherKey.publicKey, keyId: 'k2', source: 'store key k2' },
      { key: storeKey.publicKey, keyId: 'k1', source: 'store key k1 (retired)' },
    ];
    expect(check({ keys }).keyId).toBe('k1');
  });

  it('refuses a payload with one changed byte', () => {
    const signed = envelope();
    const bytes = Buffer.from(signed.payload, 'base64');
    bytes[10] = (bytes[10] ?? 0) ^ 1;

    expect(failureOf(() => check({ envelope: { ...signed, payload: bytes.toString('base64') } }))).toMatch(
      /^WrongKey: the provenance signature \(k1\) does not verify with pub.pem$/,
    );
  });

  it('refuses a signature with one changed byte', () => {
    const signed = envelope();
    const sig = Buffer.from(signed.signatures[0]!.sig, 'base64');
    sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1;
    const tampered = { ...signed, signatures: [{ keyid: 'k1', sig: sig.toString('base64') }] };

    expect(failureOf(() => check({ envelope: tampered }))).toMatch(/^WrongKey:/);
  });

  it('refuses a signature by another key than the pinned one', () => {
    expect(failureOf(() => check({ envelope: envelope(statement(), otherKey.privateKey) }))).toMatch(
      /^WrongKey: .* does not verify with pub.pem/,
    );
  });

  it('refuses a signature whose keyid names no trusted key', () => {
    const keys = [{ key: storeKey.publicKey, keyId: 'k2', source: 'store key k2' }];

    expect(failureOf(() => check({ keys }))).toBe(
      'WrongKey: the provenance is signed by k1, none of the trusted keys (store key k2)',
    );
  });

  it('matches a pinned key by the id derived from it (sha256 of its SPKI DER)', () => {
    const id = keyIdOf(storeKey.publicKey);
    const keys = [
      { key: otherKey.publicKey, keyId: keyIdOf(otherKey.publicKey), source: 'other.pem' },
      { key: storeKey.publicKey, keyId: id, source: 'store.pem' },
    ];

    expect(check({ envelope: envelope(statement(), storeKey.privateKey, id), keys }).keyId).toBe(id);
    expect(
      failureOf(() => check({ envelope: envelope(statement(), storeKey.privateKey, id), keys: [keys[0]!] })),
    ).toBe(`WrongKey: the provenance is signed by ${id}, none of the trusted keys (other.pem)`);
  });

  it('refuses a version without a store provenance', () => {
    expect(failureOf(() => check({ envelope: undefined }))).toBe(
      'MissingAttestation: the version has no store provenance',
    );
  });

  it('refuses a statement that is not SLSA provenance', () => {
    const other = { ...statement(), predicateType: 'https://cyclonedx.org/bom' };

    expect(failureOf(() => check({ envelope: envelope(other) }))).toMatch(/^MissingAttestation:/);
  });

  it('refuses subjects that differ from the version’s files', () => {
    const changed = [FILES[0]!, { name: 'dist/js/app.js', sha256: 'c'.repeat(64) }];

    expect(failureOf(() => check({ files: changed }))).toMatch(
      /^SubjectMismatch: dist\/js\/app.js: the version lists sha256:c+, the provenance signed sha256:b+$/,
    );
    expect(failureOf(() => check({ files: [FILES[0]!] }))).toBe(
      'SubjectMismatch: dist/js/app.js is a subject but no file of the version',
    );
    expect(failureOf(() => check({ files: [...FILES, { name: 'x', sha256: 'd'.repeat(64) }] }))).toBe(
      'SubjectMismatch: x is a file of the version but no subject',
    );
  });

  it('accepts local files whose sha256 matches their subject, by path suffix', () => {
    const locals = [
      { name: 'deploy/api.tar.gz', sha256: 'a'.repeat(64) },
      { name: 'deploy/dist/js/app.js', sha256: 'b'.repeat(64) },
    ];

    expect(check({ locals }).keyId).toBe('k1');
  });

  it('refuses a tampered local file and a local file that is no subject', () => {
    expect(failureOf(() => check({ locals: [{ name: 'api.tar.gz', sha256: 'e'.repeat(64) }] }))).toMatch(
      /^TamperedFile: api.tar.gz hashes to sha256:e+, the provenance signed sha256:a+$/,
    );
    expect(failureOf(() => check({ locals: [{ name: 'notes.txt', sha256: 'a'.repeat(64) }] }))).toBe(
      'TamperedFile: notes.txt is not a subject of the provenance',
    );
  });

  it('accepts identity constraints that match exactly or by trailing-* prefix', () => {
    expect(check({ identity: { repository: 'org/payments', ref: 'refs/heads/*' } }).keyId).toBe('k1');
  });

  it('refuses an identity that does not match, or a publisher with no verified claims', () => {
    expect(failureOf(() => check({ identity: { repository: 'org/other' } }))).toBe(
      'IdentityMismatch: published from repository org/payments, not org/other',
    );
    expect(failureOf(() => check({ identity: { ref: 'refs/tags/*' } }))).toBe(
      'IdentityMismatch: published from ref refs/heads/main, not refs/tags/*',
    );
    const byToken = envelope(statement(FILES, null));
    expect(failureOf(() => check({ envelope: byToken, identity: { repository: 'org/*' } }))).toBe(
      'IdentityMismatch: the publisher has no verified repository claim; --repository org/* required',
    );
  });
});

describe('publisherClaims', () => {
  it('reads the publisher the store recorded, never client metadata', () => {
    const predicate = {
      buildDefinition: {
        externalParameters: { metadata: { repository: 'org/payments' }, publisher: { kind: 'oidc' } },
        internalParameters: { publisher: { id: 'ci', kind: 'oidc', claims: { repository: 'org/real' } } },
      },
    };

    expect(publisherClaims(predicate)).toEqual({ repository: 'org/real' });
    expect(publisherClaims({ publisher: { kind: 'oidc', claims: { repository: 'a/b' } } })).toEqual({});
    expect(publisherClaims(statement().predicate)).toEqual(CLAIMS);
  });
});
