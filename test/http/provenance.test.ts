import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DsseEnvelope } from '../../functions/core/model.ts';
import { call, createUpload, publish, settled } from '../support/client.ts';
import { tampered, verdictsOf } from '../support/dsseVerification.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { TestIssuer } from '../support/oidcIssuer.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

interface AttestationItem {
  id: string;
  kind: string;
  predicateType: string;
  signedBy: string;
  verified: boolean;
  envelope: DsseEnvelope;
}

interface KeyItem {
  keyId: string;
  algorithm: string;
  publicKeyPem: string;
  createdAt: string;
  retiredAt?: string;
}

describeForEachBackend('store provenance', (kind) => {
  let s: TestServer;
  let issuer: TestIssuer;
  const ns = 'payments';
  const versionPath = (version: string) => `/v1/packages/${ns}/app/versions/${version}`;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    s = await startTestServer(kind, { oidcIssuers: [issuer.url] });
    const policy = await call(s.url, 'PUT', `/v1/namespaces/${ns}/policy`, {
      trust: [
        {
          issuer: issuer.url,
          audience: 'arca',
          claims: { repository: 'org/payments' },
          roles: ['write'],
        },
      ],
    });
    expect(policy.status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
    await issuer?.close();
  });

  /** Waits for the version's store provenance (signed by the scan worker, asynchronously). */
  async function provenanceOf(version: string): Promise<AttestationItem[]> {
    for (let i = 0; i < 500; i++) {
      const res = await call(s.url, 'GET', `${versionPath(version)}/attestations`);
      expect(res.status).toBe(200);
      const items = (res.body.items as AttestationItem[]).filter((a) => a.kind === 'provenance');
      if (items.length > 0) {
        await s.whenIdle();
        const again = await call(s.url, 'GET', `${versionPath(version)}/attestations`);
        return (again.body.items as AttestationItem[]).filter((a) => a.kind === 'provenance');
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${version} got no provenance`);
  }

  const storeKeys = async (): Promise<KeyItem[]> => {
    const res = await call(s.url, 'GET', '/v1/keys', undefined, null);
    expect(res.status).toBe(200);
    return res.body.keys;
  };
  const keyOf = (keys: KeyItem[], keyId: string) => keys.find((k) => k.keyId === keyId)!.publicKeyPem;
  const statementOf = (envelope: DsseEnvelope) =>
    JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));

  it('signs one provenance per available version, verifiable by openssl and node with the listed key', async () => {
    const files = { 'api.tar.gz': content('prov-a'), 'readme.txt': content('prov-b') };
    expect((await publish(s.url, { namespace: ns, version: '1.0.0', files })).status).toBe(200);
    expect((await settled(s.url, versionPath('1.0.0'))).body.state).toBe('available');

    const [provenance, ...more] = await provenanceOf('1.0.0');
    expect(more).toEqual([]);
    expect(provenance).toMatchObject({
      id: 'provenance',
      predicateType: 'https://slsa.dev/provenance/v1',
      verified: true,
      envelope: { payloadType: 'application/vnd.in-toto+json' },
    });
    const keys = await storeKeys();
    expect(keys[0]).toMatchObject({ algorithm: 'ECDSA_P256_SHA256' });
    expect(provenance!.envelope.signatures[0]!.keyid).toBe(provenance!.signedBy);
    const pem = keyOf(keys, provenance!.signedBy);
    expect(verdictsOf(provenance!.envelope, pem)).toEqual({ openssl: true, node: true });
    expect(verdictsOf(tampered(provenance!.envelope, 'payload'), pem)).toEqual({
      openssl: false,
      node: false,
    });
    expect(verdictsOf(tampered(provenance!.envelope, 'signature'), pem)).toEqual({
      openssl: false,
      node: false,
    });

    const statement = statementOf(provenance!.envelope);
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.subject).toEqual(
      Object.entries(files).map(([name, data]) => ({ name, digest: { sha256: sha256(data) } })),
    );
    expect(statement.predicate.buildDefinition.externalParameters).toMatchObject({
      namespace: ns,
      package: 'app',
      version: '1.0.0',
    });
  });

  it('signs a version whose every file was stored before (available at commit)', async () => {
    const files = { 'same.bin': content('prov-dedup') };
    expect((await publish(s.url, { namespace: ns, version: '2.0.0', files })).status).toBe(200);
    expect((await settled(s.url, versionPath('2.0.0'))).body.state).toBe('available');
    const created = await createUpload(s.url, { namespace: ns, version: '2.0.1', files });
    expect(created.body.files.map((f: { action: string }) => f.action)).toEqual(['exists']);
    const committed = await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    expect(committed.body.state).toBe('available');

    const [provenance, ...more] = await provenanceOf('2.0.1');
    expect(more).toEqual([]);
    expect(verdictsOf(provenance!.envelope, keyOf(await storeKeys(), provenance!.signedBy))).toEqual({
      openssl: true,
      node: true,
    });
    // A commit retried after success asks again; the version still has one provenance.
    await call(s.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    await s.whenIdle();
    expect(await provenanceOf('2.0.1')).toHaveLength(1);
  });

  it("carries an OIDC publisher's verified repository and workflow, not its metadata's", async () => {
    const token = await issuer.sign({
      workflow: 'release-payments',
      workflow_ref: 'org/payments/.github/workflows/release.yml@refs/heads/main',
      sha: 'a'.repeat(40),
      run_id: '777',
    });
    const published = await publish(s.url, {
      namespace: ns,
      version: '3.0.0',
      files: { 'app.bin': content('prov-oidc') },
      metadata: { repository: 'evil/fork', workflow: 'forged' },
      token,
    });
    expect(published.status).toBe(200);
    const [provenance] = await provenanceOf('3.0.0');
    const { predicate } = statementOf(provenance!.envelope);
    const { publisher } = predicate.buildDefinition.internalParameters;
    expect(publisher).toMatchObject({
      kind: 'oidc',
      claims: { repository: 'org/payments', workflow: 'release-payments', sha: 'a'.repeat(40) },
    });
    expect(predicate.runDetails.builder.id).toBe(
      `${issuer.url}#org/payments/.github/workflows/release.yml@refs/heads/main`,
    );
    expect(predicate.runDetails.metadata.invocationId).toBe('777');
    expect(predicate.buildDefinition.resolvedDependencies).toEqual([
      { uri: 'org/payments', digest: { gitCommit: 'a'.repeat(40) }, annotations: { ref: 'refs/heads/main' } },
    ]);
    expect(predicate.buildDefinition.externalParameters.metadata).toEqual({
      repository: 'evil/fork',
      workflow: 'forged',
    });
  });

  it('answers 404 for the attestations of an unknown version and 401 without a token', async () => {
    expect((await call(s.url, 'GET', `${versionPath('9.9.9')}/attestations`)).status).toBe(404);
    expect((await call(s.url, 'GET', `${versionPath('1.0.0')}/attestations`, undefined, null)).status).toBe(
      401,
    );
  });

  if (kind === 'embedded') {
    it('rotates: versions signed before and after verify, the retired key stays listed', async () => {
      const before = (await provenanceOf('1.0.0'))[0]!;
      const rotated = await call(s.url, 'POST', '/v1/keys/rotate');
      expect(rotated.status).toBe(200);
      expect(rotated.body.keyId).not.toBe(before.signedBy);
      const files = { 'after.bin': content('prov-after-rotation') };
      expect((await publish(s.url, { namespace: ns, version: '4.0.0', files })).status).toBe(200);
      const after = (await provenanceOf('4.0.0'))[0]!;
      expect(after.signedBy).toBe(rotated.body.keyId);

      const keys = await storeKeys();
      expect(keys.find((k) => k.keyId === before.signedBy)?.retiredAt).toEqual(expect.any(String));
      expect(keys.find((k) => k.keyId === after.signedBy)?.retiredAt).toBeUndefined();
      for (const attestation of [before, after])
        expect(verdictsOf(attestation.envelope, keyOf(keys, attestation.signedBy))).toEqual({
          openssl: true,
          node: true,
        });
    });
  } else {
    it('answers 409 to a rotation request: on AWS keys rotate by deploying (docs/deploy.md)', async () => {
      const rotated = await call(s.url, 'POST', '/v1/keys/rotate');
      expect(rotated.status).toBe(409);
      expect(rotated.body.error.details).toEqual({ reason: 'rotateByDeploy' });
    });
  }

  it('refuses a rotation to anyone but a store admin', async () => {
    const token = await issuer.sign({});
    expect((await call(s.url, 'POST', '/v1/keys/rotate', undefined, token)).status).toBe(403);
  });
});
