import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UPLOAD_ID_PATTERN } from '../../functions/core/ids.ts';
import { dssePae } from '../../functions/core/provenance.ts';
import { call, publish, settled } from '../support/client.ts';
import { SCOPED_TOKENS } from '../support/embedded.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const IN_TOTO = 'application/vnd.in-toto+json';
const CYCLONEDX = 'https://cyclonedx.org/bom';
const MIB = 1024 * 1024;

/** An in-toto Statement v1 about these digests, as a DSSE payload. */
function statement(digests: readonly string[], predicateType = CYCLONEDX, predicate: unknown = {}): Buffer {
  const subject = digests.map((d, i) => ({ name: `file-${i}`, digest: { sha256: d } }));
  return Buffer.from(
    JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject, predicateType, predicate }),
  );
}

type Signer = (pae: Buffer) => Buffer;

/** A key pair of each kind publishers use, with how it signs and its public PEM. */
function keyPair(kind: 'P-256' | 'P-384' | 'rsa' | 'rsa-pss' | 'ed25519') {
  const pair =
    kind === 'P-256' || kind === 'P-384'
      ? generateKeyPairSync('ec', { namedCurve: kind })
      : kind === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key: KeyObject = pair.privateKey;
  const signer: Signer = {
    'P-256': (pae: Buffer) => sign('sha256', pae, { key, dsaEncoding: 'der' }),
    'P-384': (pae: Buffer) => sign('sha384', pae, { key, dsaEncoding: 'der' }),
    rsa: (pae: Buffer) => sign('sha256', pae, key),
    'rsa-pss': (pae: Buffer) =>
      sign('sha256', pae, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
    ed25519: (pae: Buffer) => sign(null, pae, key),
  }[kind];
  return { signer, publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** A DSSE envelope of `payload`, signed over its PAE by `signer` (or carrying a made-up signature). */
function envelope(payload: Buffer, signer?: Signer, keyid = 'publisher') {
  const sig = signer ? signer(dssePae(IN_TOTO, payload)) : Buffer.from('not a signature');
  return {
    payloadType: IN_TOTO,
    payload: payload.toString('base64'),
    signatures: [{ keyid, sig: sig.toString('base64') }],
  };
}

describeForEachBackend('publisher attestations', (kind) => {
  let s: TestServer;
  const files = { 'app.tar.gz': content('attest-app'), 'sbom.json': content('attest-sbom') };
  const digests = Object.values(files).map((f) => sha256(f));
  const path = (ns: string, version = '1.0.0') => `/v1/packages/${ns}/app/versions/${version}/attestations`;
  const attest = (ns: string, body: unknown, token?: string) => call(s.url, 'POST', path(ns), body, token);
  const release = async (ns: string) => {
    expect((await publish(s.url, { namespace: ns, version: '1.0.0', files })).status).toBe(200);
    await settled(s.url, `/v1/packages/${ns}/app/versions/1.0.0`);
  };

  beforeAll(async () => {
    s = await startTestServer(kind);
    for (const ns of ['open', 'trusting', 'alpha']) await release(ns);
  });
  afterAll(async () => s?.close());

  it('stores an envelope about files of the version, unverified when the namespace trusts no key, and audits it', async () => {
    const res = await attest('open', envelope(statement(digests)));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UPLOAD_ID_PATTERN),
      kind: 'publisher',
      predicateType: CYCLONEDX,
      signedBy: '',
      verified: false,
      envelope: envelope(statement(digests)),
    });
    const audit = await call(s.url, 'GET', '/v1/audit?namespace=open');
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({
        action: 'attestation.add',
        target: 'open/app@1.0.0',
        details: expect.objectContaining({ id: res.body.id, verified: false }),
      }),
    );
  });

  it('refuses subjects that are not files of the version with 422 SubjectMismatch naming them, and stores nothing', async () => {
    const stranger = sha256('not a file of this version');
    const before = await s.snapshot();
    const res = await attest('open', envelope(statement([digests[0]!, stranger])));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'SubjectMismatch', details: { digests: [stranger] } });
    expect(await s.snapshot()).toEqual(before);
  });

  it('refuses what is not a DSSE envelope of an in-toto Statement with 400', async () => {
    const good = envelope(statement(digests));
    const bad: Record<string, unknown> = {
      'another payload type': { ...good, payloadType: 'application/json' },
      'a payload that is not base64': { ...good, payload: '{not base64}' },
      'a payload that is not JSON': { ...good, payload: Buffer.from('nope').toString('base64') },
      'a Statement without subjects': envelope(statement([])),
      'a subject without a sha256': envelope(
        Buffer.from(
          JSON.stringify({
            _type: 'https://in-toto.io/Statement/v1',
            subject: [{ name: 'a', digest: { sha512: 'ab' } }],
            predicateType: CYCLONEDX,
          }),
        ),
      ),
      'another _type': envelope(
        Buffer.from(
          JSON.stringify({
            _type: 'https://example.com/Statement',
            subject: [{ digest: { sha256: digests[0] } }],
            predicateType: CYCLONEDX,
          }),
        ),
      ),
      'no signature': { ...good, signatures: [] },
      'an unknown field': { ...good, extra: true },
    };
    for (const [what, body] of Object.entries(bad)) {
      const res = await attest('open', body);
      expect(res.status, what).toBe(400);
      expect(res.body.error.code, what).toBe('InvalidRequest');
    }
  });

  /** A request body of exactly `size` bytes: a real envelope, padded with JSON whitespace. */
  const padded = (size: number) => {
    const body = JSON.stringify(envelope(statement(digests, CYCLONEDX, { pad: 'x'.repeat(700_000) })));
    expect(Buffer.byteLength(body)).toBeLessThan(size);
    return body + ' '.repeat(size - Buffer.byteLength(body));
  };

  it('answers 413 TooLarge to an envelope over 1 MiB, and stores nothing', async () => {
    const before = await s.snapshot();
    const over = await attest('open', padded(MIB + 1));
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('TooLarge');
    expect(await s.snapshot()).toEqual(before);
  });

  // On AWS the record spans several DynamoDB items (400 KB each at most): the same 1 MiB limit holds.
  it('stores an envelope sent in a request of exactly 1 MiB, and lists it whole', async () => {
    const exactly = await attest('open', padded(MIB));
    expect(exactly.status, JSON.stringify(exactly.body)).toBe(201);
    const listed = await call(s.url, 'GET', path('open'));
    const stored = listed.body.items.find((a: { id: string }) => a.id === exactly.body.id);
    expect(JSON.stringify(stored.envelope)).toBe(JSON.stringify(exactly.body.envelope));
  });

  it('with trusted publisher keys, stores an envelope one of them signed as verified, for every supported key type', async () => {
    const pairs = (['P-256', 'P-384', 'rsa', 'rsa-pss', 'ed25519'] as const).map((k) => ({
      k,
      ...keyPair(k),
    }));
    const policy = await call(s.url, 'PUT', '/v1/namespaces/trusting/policy', {
      publisherKeys: pairs.map(({ k, publicKeyPem }) => ({ keyId: `ci-${k}`, publicKeyPem })),
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);
    const stored = [];
    for (const { k, signer } of pairs) {
      const res = await attest('trusting', envelope(statement(digests), signer, 'a hint that may be wrong'));
      expect(res.status, k).toBe(201);
      expect(res.body, k).toMatchObject({ kind: 'publisher', verified: true, signedBy: `ci-${k}` });
      stored.push(res.body);
    }
    const listed = await call(s.url, 'GET', path('trusting'));
    expect(listed.status).toBe(200);
    expect(listed.body.items.filter((a: { kind: string }) => a.kind === 'publisher')).toEqual(stored);
  });

  it('refuses with 422 UntrustedSignature an envelope no trusted key signed, or whose payload changed after signing', async () => {
    const trusted = keyPair('P-256');
    const stranger = keyPair('P-256');
    await call(s.url, 'PUT', '/v1/namespaces/trusting/policy', {
      publisherKeys: [{ keyId: 'ci', publicKeyPem: trusted.publicKeyPem }],
    });
    const signed = envelope(statement(digests), trusted.signer, 'ci');
    const tampered = { ...signed, payload: statement([digests[1]!]).toString('base64') };
    const before = await s.snapshot();
    for (const [what, body] of Object.entries({
      'signed by another key': envelope(statement(digests), stranger.signer, 'ci'),
      'not signed at all': envelope(statement(digests)),
      'changed after signing': tampered,
    })) {
      const res = await attest('trusting', body);
      expect(res.status, what).toBe(422);
      expect(res.body.error, what).toMatchObject({
        code: 'UntrustedSignature',
        details: { trustedKeyIds: ['ci'] },
      });
    }
    expect(await s.snapshot()).toEqual(before);
    expect((await attest('trusting', signed)).body).toMatchObject({ verified: true, signedBy: 'ci' });
  });

  it('refuses publisher keys that are not supported public keys with 400 naming the field, and changes nothing', async () => {
    const before = await s.snapshot();
    const dsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
    const bad: [unknown, string][] = [
      [[{ keyId: 'k', publicKeyPem: 'hello' }], 'publisherKeys.0.publicKeyPem'],
      [
        [{ keyId: 'k', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }],
        'publisherKeys[0].publicKeyPem',
      ],
      [
        [{ keyId: 'k', publicKeyPem: dsa.publicKey.export({ type: 'spki', format: 'pem' }) }],
        'publisherKeys[0].publicKeyPem',
      ],
      [
        [
          {
            keyId: 'k',
            publicKeyPem: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({
              type: 'spki',
              format: 'pem',
            }),
          },
        ],
        'publisherKeys[0].publicKeyPem',
      ],
      [
        [
          { keyId: 'k', publicKeyPem: keyPair('ed25519').publicKeyPem },
          { keyId: 'k', publicKeyPem: keyPair('ed25519').publicKeyPem },
        ],
        'publisherKeys',
      ],
      [[{ keyId: '', publicKeyPem: keyPair('ed25519').publicKeyPem }], 'publisherKeys.0.keyId'],
    ];
    for (const [publisherKeys, field] of bad) {
      const res = await call(s.url, 'PUT', '/v1/namespaces/trusting/policy', { publisherKeys });
      expect(res.status, field).toBe(400);
      expect(JSON.stringify(res.body.error), field).toContain(field);
    }
    expect(await s.snapshot()).toEqual(before);
  });

  it('answers 404 for an unknown version and 403 to a caller without the write role', async () => {
    expect((await call(s.url, 'POST', path('open', '9.9.9'), envelope(statement(digests)))).status).toBe(404);
    const reader = await attest('alpha', envelope(statement(digests)), SCOPED_TOKENS.alphaReader);
    expect(reader.status).toBe(403);
    const writer = await attest('alpha', envelope(statement(digests)), SCOPED_TOKENS.alphaWriter);
    expect(writer.status).toBe(201);
  });
});
