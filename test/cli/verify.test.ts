import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Workdir, workdir } from './files.ts';
import { arca, BACKEND, CI_TOKEN, EICAR, publishOk, startStore, type TestStore } from './harness.ts';

/** The store signs a version's provenance once it is available, in the scan worker: wait for it. */
async function provenanceSigner(store: TestStore, ref: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const shown = await arca(store, ['show', ref, '--json']);
    const attestations: { kind: string; signedBy: string }[] = JSON.parse(shown.stdout).attestations;
    const provenance = attestations.find((a) => a.kind === 'provenance');
    if (provenance) return provenance.signedBy;
    await sleep(100);
  }
  throw new Error(`${ref} has no provenance after 10 s`);
}

/** Writes the store's public key `keyId` to a PEM file, as a deploy repository would keep it. */
async function pinStoreKey(store: TestStore, keyId: string, input: Workdir, name = 'store.pem') {
  const listed = (await (await globalThis.fetch(`${store.url}/v1/keys`)).json()) as {
    keys: { keyId: string; publicKeyPem: string }[];
  };
  return input.file(name, listed.keys.find((k) => k.keyId === keyId)!.publicKeyPem);
}

function publisherEnvelope(subjects: { name: string; sha256: string }[]) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payloadType = 'application/vnd.in-toto+json';
  const payload = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
      predicateType: 'https://cyclonedx.org/bom',
      predicate: { bomFormat: 'CycloneDX', specVersion: '1.5' },
    }),
  );
  const pae = Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} ${payload}`);
  const sig = sign('sha256', pae, { key: privateKey, dsaEncoding: 'der' }).toString('base64');
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: 'ci', sig }] };
}

describe('arca verify', () => {
  let store: TestStore;
  let input: Workdir;
  let output: Workdir;
  let app: string;
  let config: string;
  let storeKey: string;
  let otherKey: string;
  let keyId: string;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
    output = await workdir();
    app = await input.file('app.tar.gz', 50_000);
    config = await input.file('config.json', '{"replicas":3}\n');
    await publishOk(store, 'demo/signed@1.0.0', [app, config]);
    keyId = await provenanceSigner(store, 'demo/signed@1.0.0');
    storeKey = await pinStoreKey(store, keyId, input);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    otherKey = await input.file('other.pem', other.export({ type: 'spki', format: 'pem' }).toString());
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
    await output.remove();
  });

  it('exits 0 with one verified line when the pinned key signed the files given', async () => {
    const result = await arca(store, ['verify', 'demo/signed@1.0.0', app, config, '--key', storeKey]);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `verified: demo/signed@1.0.0 provenance signed by ${keyId} (pinned key), 2 files match the subjects, 2 local files match\n`,
    );
    expect(result.stderr).toBe('');
  });

  it('takes pinned keys from ARCA_TRUSTED_KEYS', async () => {
    const result = await arca(store, ['verify', 'demo/signed@1.0.0', '--json'], {
      ARCA_TRUSTED_KEYS: `${otherKey},${storeKey}`,
    });

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ verified: true, keyId, pinned: true });
  });

  it("verifies with the store's own keys when none is pinned, and warns that it is not pinned", async () => {
    const result = await arca(store, ['verify', 'demo/signed@1.0.0', '--quiet']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(store key, not pinned)');
    expect(result.stderr).toContain('warning: the signing key is not pinned');
  });

  it('exits 4 naming a local file whose bytes differ from the signed subject', async () => {
    const tampered = await output.file('app.tar.gz', 50_000);

    const result = await arca(store, ['verify', 'demo/signed@1.0.0', tampered, '--key', storeKey]);

    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      /^arca verify: TamperedFile: .*app\.tar\.gz hashes to sha256:\w+, the provenance signed/,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 4 when the signature does not verify with the pinned key', async () => {
    const result = await arca(store, ['verify', 'demo/signed@1.0.0', '--key', otherKey]);

    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      `arca verify: WrongKey: the provenance is signed by ${keyId}, none of the trusted keys (${otherKey})\n`,
    );
  });

  it('exits 4 when the publisher is not the CI identity required', async () => {
    const result = await arca(store, [
      'verify',
      'demo/signed@1.0.0',
      '--key',
      storeKey,
      '--repository',
      'org/payments',
    ]);

    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      'arca verify: IdentityMismatch: the publisher has no verified repository claim; --repository org/payments required\n',
    );
  });

  it('checks --repository and --ref against the CI identity the store verified, not the metadata', async () => {
    const published = await arca({ url: store.url, token: CI_TOKEN }, [
      'publish',
      'demo/ci@1.0.0',
      app,
      '--meta',
      'repository=org/evil',
      '--wait',
    ]);
    expect(published.code).toBe(0);
    await provenanceSigner(store, 'demo/ci@1.0.0');
    const verify = (...flags: string[]) =>
      arca(store, ['verify', 'demo/ci@1.0.0', app, '--key', storeKey, ...flags]);

    const matching = await verify('--repository', 'org/payments', '--ref', 'refs/heads/*');
    const otherRepository = await verify('--repository', 'org/evil');
    const otherRef = await verify('--repository', 'org/*', '--ref', 'refs/tags/*');

    expect(matching.code).toBe(0);
    expect(matching.stdout).toMatch(/, repository org\/payments, ref refs\/heads\/\*\n$/);
    expect(otherRepository.code).toBe(4);
    expect(otherRepository.stderr).toBe(
      'arca verify: IdentityMismatch: published from repository org/payments, not org/evil\n',
    );
    expect(otherRef.code).toBe(4);
    expect(otherRef.stderr).toBe(
      'arca verify: IdentityMismatch: published from ref refs/heads/main, not refs/tags/*\n',
    );
  });

  it('exits 4 for a version the store signed no provenance for (quarantined)', async () => {
    const infected = await input.file('eicar.txt', EICAR);
    await arca(store, ['publish', 'demo/infected@1.0.0', infected, '--wait']);

    const result = await arca(store, ['verify', 'demo/infected@1.0.0', '--key', storeKey]);

    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      'arca verify: MissingAttestation: the version has no store provenance: it is quarantined, and the store signs available versions only\n',
    );
  });

  it('shows the signer, and the signed ratio of a short listing', async () => {
    const shown = await arca(store, ['show', 'demo/signed@1.0.0']);
    const listed = await arca(store, ['versions', 'demo/signed']);

    expect(shown.stdout).toContain(`provenance: signed by ${keyId}`);
    expect(shown.stdout).toMatch(/provenance +https:\/\/slsa\.dev\/provenance\/v1 +signed by \S+ +verified/);
    expect(listed.stdout).toContain('signed versions: 1 of 1 listed');
  });
});

describe('arca fetch --verify', () => {
  let store: TestStore;
  let input: Workdir;
  let output: Workdir;
  let storeKey: string;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
    output = await workdir();
    await publishOk(store, 'demo/deploy@1.0.0', [
      await input.file('app.tar.gz', 30_000),
      await input.file('config.json', '{}\n'),
    ]);
    const keyId = await provenanceSigner(store, 'demo/deploy@1.0.0');
    storeKey = await pinStoreKey(store, keyId, input);
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
    await output.remove();
  });

  it('writes the files once the provenance and every digest verified', async () => {
    const dir = join(output.path, 'ok');

    const result = await arca(store, [
      'fetch',
      'demo/deploy@1.0.0',
      '-o',
      dir,
      '--verify',
      '--key',
      storeKey,
    ]);

    expect(result.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['app.tar.gz', 'config.json']);
  });

  it('refuses --key without --verify (exit 1) rather than ignore it', async () => {
    const result = await arca(store, ['fetch', 'demo/deploy@1.0.0', '-o', output.path, '--key', storeKey]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--key applies to --verify; add --verify');
  });

  it('exits 4 and writes nothing when the pinned key did not sign', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const otherKey = await input.file('other.pem', other.export({ type: 'spki', format: 'pem' }).toString());
    const dir = join(output.path, 'refused');

    const result = await arca(store, [
      'fetch',
      'demo/deploy@1.0.0',
      '-o',
      dir,
      '--verify',
      '--key',
      otherKey,
    ]);

    expect(result.code).toBe(4);
    expect(result.stderr).toContain('WrongKey');
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  it('exits 4 and leaves no file and no partial when stored bytes were tampered with', async () => {
    const version = JSON.parse((await arca(store, ['show', 'demo/deploy@1.0.0', '--json'])).stdout);
    const app = version.files.find((f: { name: string }) => f.name === 'app.tar.gz');
    const dir = join(output.path, 'tampered');
    await store.tamper(app.sha256);

    const result = await arca(store, [
      'fetch',
      'demo/deploy@1.0.0',
      '-o',
      dir,
      '--verify',
      '--key',
      storeKey,
    ]);

    expect(result.code).toBe(4);
    expect(result.stderr).toContain('DigestMismatch');
    expect(await readdir(dir)).toEqual([]);
  });
});

// On AWS the signing key rotates by deployment (POST /v1/keys/rotate answers 409 there).
describe.runIf(BACKEND === 'embedded')('arca verify across a key rotation', () => {
  let store: TestStore;
  let input: Workdir;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
  });

  it("verifies versions signed before and after with the store's keys, and each with its own pinned key", async () => {
    const file = await input.file('app.bin', 10_000);
    await publishOk(store, 'demo/rotated@1.0.0', [file]);
    const oldKeyId = await provenanceSigner(store, 'demo/rotated@1.0.0');
    const oldKey = await pinStoreKey(store, oldKeyId, input, 'old.pem');
    const rotated = await globalThis.fetch(`${store.url}/v1/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${store.token}` },
    });
    expect(rotated.status).toBe(200);
    await publishOk(store, 'demo/rotated@2.0.0', [file]);
    const newKeyId = await provenanceSigner(store, 'demo/rotated@2.0.0');
    const newKey = await pinStoreKey(store, newKeyId, input, 'new.pem');

    const before = await arca(store, ['verify', 'demo/rotated@1.0.0', '--json']);
    const after = await arca(store, ['verify', 'demo/rotated@2.0.0', '--json']);
    const bothPinned = await arca(store, ['verify', 'demo/rotated@1.0.0'], {
      ARCA_TRUSTED_KEYS: `${newKey},${oldKey}`,
    });
    const onlyNewPinned = await arca(store, ['verify', 'demo/rotated@1.0.0', '--key', newKey]);

    expect(newKeyId).not.toBe(oldKeyId);
    expect(JSON.parse(before.stdout)).toMatchObject({ verified: true, keyId: oldKeyId, pinned: false });
    expect(JSON.parse(after.stdout)).toMatchObject({ verified: true, keyId: newKeyId, pinned: false });
    expect(bothPinned.code).toBe(0);
    expect(onlyNewPinned.code).toBe(4);
    expect(onlyNewPinned.stderr).toContain(`WrongKey: the provenance is signed by ${oldKeyId}`);
  });
});

describe('arca attest', () => {
  let store: TestStore;
  let input: Workdir;
  let sha256: string;

  beforeAll(async () => {
    store = await startStore();
    input = await workdir();
    const content = 'sbom bytes\n';
    sha256 = createHash('sha256').update(content).digest('hex');
    await publishOk(store, 'demo/attested@1.0.0', [await input.file('sbom.cdx.json', content)]);
  });

  afterAll(async () => {
    await store.close();
    await input.remove();
  });

  it('uploads a publisher envelope and prints the stored id', async () => {
    const path = join(input.path, 'sbom.intoto.json');
    await writeFile(path, JSON.stringify(publisherEnvelope([{ name: 'sbom.cdx.json', sha256 }])));

    const result = await arca(store, ['attest', 'demo/attested@1.0.0', path]);
    const shown = await arca(store, ['show', 'demo/attested@1.0.0', '--json']);

    expect(result.code).toBe(0);
    const id = result.stdout.trim();
    expect(JSON.parse(shown.stdout).attestations).toContainEqual(
      expect.objectContaining({ id, kind: 'publisher', predicateType: 'https://cyclonedx.org/bom' }),
    );
  });

  it("exits 4 with the store's reason when a subject is not a file of the version", async () => {
    const path = join(input.path, 'stranger.intoto.json');
    await writeFile(path, JSON.stringify(publisherEnvelope([{ name: 'other.bin', sha256: 'f'.repeat(64) }])));

    const result = await arca(store, ['attest', 'demo/attested@1.0.0', path]);

    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^arca attest: SubjectMismatch: subjects that are not files of/);
  });

  it('exits 1 for a file that is not a DSSE envelope, before any request', async () => {
    const path = join(input.path, 'not-dsse.json');
    await writeFile(path, '{"hello":"world"}');

    const result = await arca(store, ['attest', 'demo/attested@1.0.0', path]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not a DSSE envelope');
  });
});
