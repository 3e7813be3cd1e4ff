import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unmetGates } from '../../functions/core/gates.ts';
import type { AttestationRecord, Version } from '../../functions/core/model.ts';
import { dssePae } from '../../functions/core/provenance.ts';
import { type ApiAnswer, call, publish, settled } from '../support/client.ts';
import { coreHarness } from '../support/coreHarness.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { TestIssuer } from '../support/oidcIssuer.ts';
import { TestClock } from '../support/testClock.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

const STAGES = ['dev', 'staging', 'prod'];
const CYCLONEDX = 'https://cyclonedx.org/bom';
const IN_TOTO = 'application/vnd.in-toto+json';

/** Both snapshot shapes, without the audit events of refused promotions (they are the one change). */
function withoutRefusedPromotions(snapshot: unknown): unknown {
  const refused = (row: unknown) => (row as { action?: string }).action === 'promote.refused';
  const s = snapshot as { rows?: { audit: unknown[] }; items?: unknown[] };
  if (s.rows) return { ...s, rows: { ...s.rows, audit: s.rows.audit.filter((r) => !refused(r)) } };
  if (s.items) return { ...s, items: s.items.filter((i) => !refused(i)) };
  return snapshot;
}

describeForEachBackend('promotion gates', (kind) => {
  let s: TestServer;
  let issuer: TestIssuer;
  const clock = new TestClock();
  const ns = 'gated';
  let counter = 0;
  const versionPath = (v: string) => `/v1/packages/${ns}/app/versions/${v}`;
  const promote = (v: string, stage: string) => call(s.url, 'POST', `${versionPath(v)}/promote`, { stage });
  const gates = async (gate: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const res = await call(s.url, 'PUT', `/v1/namespaces/${ns}/policy`, {
      stages: STAGES,
      gates: { staging: gate },
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  /** Publishes a new available version (as `token`, default the admin) and answers its number. */
  const release = async (options: { metadata?: Record<string, string>; token?: string } = {}) => {
    const version = `1.0.${++counter}`;
    const data = content(`gated-${version}`);
    const res = await publish(s.url, { namespace: ns, version, files: { 'app.bin': data }, ...options });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await settled(s.url, versionPath(version))).body.state).toBe('available');
    return { version, sha: sha256(data) };
  };
  /** Expects a 409 PolicyViolation naming exactly these gates, that changed nothing but the audit. */
  const refused = async (version: string, stage: string, expected?: string[]) => {
    const before = withoutRefusedPromotions(await s.snapshot());
    const res: ApiAnswer = await promote(version, stage);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error.code).toBe('PolicyViolation');
    expect(res.body.error.details.stage).toBe(stage);
    const named = res.body.error.details.reasons.map((r: { gate: string }) => r.gate);
    if (expected) expect(named).toEqual(expected);
    for (const reason of res.body.error.details.reasons) expect(reason.message).toEqual(expect.any(String));
    expect(withoutRefusedPromotions(await s.snapshot())).toEqual(before);
    const audit = await call(s.url, 'GET', `/v1/audit?namespace=${ns}`);
    expect(audit.body.items.at(-1)).toMatchObject({
      action: 'promote.refused',
      target: `${ns}/app@${version}`,
      details: { stage, reasons: res.body.error.details.reasons },
    });
    return res.body.error.details.reasons as { gate: string; message: string }[];
  };

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    s = await startTestServer(kind, { clock, oidcIssuers: [issuer.url] });
  });
  afterAll(async () => {
    await s?.close();
    await issuer?.close();
  });

  it('refuses a promotion missing required metadata, naming the keys, and passes once they are there', async () => {
    await gates({ metadata: ['commit', 'buildId'] });
    const { version } = await release({ metadata: { commit: '9f1c' } });
    const [reason] = await refused(version, 'staging', ['metadata']);
    expect(reason!.message).toContain('buildId');
    expect(reason!.message).not.toContain('commit');
    const complete = await release({ metadata: { commit: '9f1c', buildId: '812' } });
    expect((await promote(complete.version, 'staging')).status).toBe(200);
    expect((await promote(complete.version, 'dev')).status).toBe(200); // an ungated stage
  });

  it('names every unmet gate, with a reason each', async () => {
    await gates({
      metadata: ['commit'],
      attestations: [CYCLONEDX],
      provenance: { repository: 'org/payments' },
    });
    const { version } = await release();
    const reasons = await refused(version, 'staging');
    expect([...new Set(reasons.map((r) => r.gate))]).toEqual(['metadata', 'provenance', 'attestations']);
  });

  it('refuses the provenance gate for a version published outside the repository and ref, whatever its metadata says', async () => {
    await call(s.url, 'PUT', `/v1/namespaces/${ns}/policy`, {
      stages: STAGES,
      gates: { staging: { provenance: { repository: 'org/payments', ref: 'refs/heads/*' } } },
      trust: [{ issuer: issuer.url, audience: 'arca', claims: { repository: 'org/*' }, roles: ['write'] }],
    });
    const claimed = { repository: 'org/payments', ref: 'refs/heads/main' };
    const identity = (reasons: { gate: string; message: string }[]) =>
      reasons.find((r) => r.gate === 'provenance' && r.message.startsWith('publisher identity'))?.message;
    const byAdmin = await release({ metadata: claimed });
    expect(identity(await refused(byAdmin.version, 'staging'))).toContain('repository is null');
    const fromElsewhere = await release({
      metadata: claimed,
      token: await issuer.sign({ repository: 'org/other', ref: 'refs/tags/v1' }),
    });
    const message = identity(await refused(fromElsewhere.version, 'staging'));
    expect(message).toContain('"org/other"');
    expect(message).toContain('"refs/tags/v1"');
  });

  it('passes the provenance gate for a version the store signed, published by CI from the repository and ref', async () => {
    await call(s.url, 'PUT', `/v1/namespaces/${ns}/policy`, {
      stages: STAGES,
      gates: { staging: { provenance: { repository: 'org/payments', ref: 'refs/heads/*' } } },
      trust: [{ issuer: issuer.url, audience: 'arca', claims: { repository: 'org/*' }, roles: ['write'] }],
    });
    const { version } = await release({ token: await issuer.sign() });
    await s.whenIdle(); // the store signs its provenance once the version is available
    const attestations = await call(s.url, 'GET', `${versionPath(version)}/attestations`);
    expect(attestations.body.items).toContainEqual(
      expect.objectContaining({ id: 'provenance', kind: 'provenance', verified: true }),
    );
    expect((await promote(version, 'staging')).status).toBe(200);
  });

  it('refuses the attestations gate until a verified attestation of each listed predicateType exists', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' });
    await gates({ attestations: [CYCLONEDX] }, { publisherKeys: [{ keyId: 'ci', publicKeyPem }] });
    const { version, sha } = await release();
    const attest = (predicateType: string, signed: boolean) => {
      const payload = Buffer.from(
        JSON.stringify({
          _type: 'https://in-toto.io/Statement/v1',
          subject: [{ name: 'app.bin', digest: { sha256: sha } }],
          predicateType,
          predicate: {},
        }),
      );
      const sig = signed
        ? sign('sha256', dssePae(IN_TOTO, payload), { key: privateKey, dsaEncoding: 'der' })
        : Buffer.from('unsigned');
      return call(s.url, 'POST', `${versionPath(version)}/attestations`, {
        payloadType: IN_TOTO,
        payload: payload.toString('base64'),
        signatures: [{ keyid: 'ci', sig: sig.toString('base64') }],
      });
    };
    const [reason] = await refused(version, 'staging', ['attestations']);
    expect(reason!.message).toContain(CYCLONEDX);
    expect((await attest('https://spdx.dev/Document', true)).status).toBe(201);
    await refused(version, 'staging', ['attestations']);
    expect((await attest(CYCLONEDX, true)).body).toMatchObject({ verified: true });
    expect((await promote(version, 'staging')).status).toBe(200);
  });

  it('refuses a promotion before the version soaked minSoakSeconds in the previous stage, and passes after', async () => {
    await gates({ minSoakSeconds: 3600 });
    const { version } = await release();
    const [never] = await refused(version, 'staging', ['minSoakSeconds']);
    expect(never!.message).toContain('dev');
    expect((await promote(version, 'dev')).status).toBe(200);
    clock.advance(1800);
    const [early] = await refused(version, 'staging', ['minSoakSeconds']);
    expect(early!.message).toMatch(/180\d s in dev, 3600 s required/);
    clock.advance(1801);
    expect((await promote(version, 'staging')).status).toBe(200);
  });

  it('counts the soak of a version that left the previous stage until it left', async () => {
    await gates({ minSoakSeconds: 600 });
    const brief = await release();
    const next = await release();
    expect((await promote(brief.version, 'dev')).status).toBe(200);
    clock.advance(60);
    expect((await promote(next.version, 'dev')).status).toBe(200);
    clock.advance(3600);
    const [reason] = await refused(brief.version, 'staging', ['minSoakSeconds']);
    expect(reason!.message).toMatch(/^6\d s in dev/);
  });

  it('refuses the vulnerabilities gate, failing closed, when the store has no advisory database', async () => {
    await gates({ vulnerabilities: { maxSeverity: 'medium' } });
    const { version } = await release();
    expect((await promote(version, 'dev')).status).toBe(200);

    const [reason] = await refused(version, 'staging', ['vulnerabilities']);
    expect(reason!.message).toBe('no advisory database is configured to match SBOMs against');
  });

  it('refuses gates on stages the policy does not list, and malformed gates, with 400 naming the field', async () => {
    const before = await s.snapshot();
    const bad: [unknown, string][] = [
      [{ stages: STAGES, gates: { qa: { scan: 'clean' } } }, 'gates.qa'],
      [{ gates: { prod: { scan: 'clean' } } }, 'gates.prod'],
      [{ stages: STAGES, gates: { dev: { minSoakSeconds: 60 } } }, 'gates.dev.minSoakSeconds'],
      [{ stages: STAGES, gates: { prod: { scan: 'dirty' } } }, 'gates.prod.scan'],
      [{ stages: STAGES, gates: { prod: { metadata: ['not a key'] } } }, 'gates.prod.metadata'],
      [{ stages: STAGES, gates: { prod: { provenance: {} } } }, 'gates.prod.provenance'],
      [{ stages: STAGES, gates: { prod: { minSoakSeconds: 0 } } }, 'gates.prod.minSoakSeconds'],
      [{ stages: STAGES, gates: { prod: { attestations: [] } } }, 'gates.prod.attestations'],
      [{ stages: STAGES, gates: { prod: { approvals: 2 } } }, 'gates.prod'],
      [
        { stages: STAGES, gates: { prod: { vulnerabilities: { maxSeverity: 'severe' } } } },
        'gates.prod.vulnerabilities',
      ],
      [{ stages: STAGES, gates: { prod: { vulnerabilities: {} } } }, 'gates.prod.vulnerabilities'],
    ];
    for (const [body, field] of bad) {
      const res = await call(s.url, 'PUT', `/v1/namespaces/${ns}/policy`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('InvalidRequest');
      expect(JSON.stringify(res.body.error), JSON.stringify(body)).toContain(field);
    }
    expect(await s.snapshot()).toEqual(before);
  });
});

describe('gates evaluated in core on a version built by hand', () => {
  const claims = { repository: 'org/payments', ref: 'refs/heads/main' };
  const version = (status: 'clean' | 'error', publisherClaims?: Record<string, string>): Version => ({
    namespace: 'gated',
    package: 'app',
    version: '1',
    state: 'available',
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'ci',
    ...(publisherClaims ? { publisher: { id: 'ci', kind: 'oidc' as const, claims: publisherClaims } } : {}),
    metadata: { repository: 'org/payments', ref: 'refs/heads/main' },
    stages: [],
    protected: false,
    leases: [],
    files: [
      {
        name: 'a.bin',
        sha256: sha256('a'),
        size: 1,
        mediaType: 'application/octet-stream',
        state: 'available',
        scan: { status, findings: [] },
      },
    ],
  });
  const provenance = (verified: boolean): AttestationRecord => ({
    id: 'provenance',
    kind: 'provenance',
    predicateType: 'https://slsa.dev/provenance/v1',
    signedBy: verified ? 'store-key' : '',
    verified,
    envelope: { payloadType: IN_TOTO, payload: '', signatures: [{ sig: '' }] },
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'arca-store',
  });
  const audit = {
    at: '',
    actor: 'arca-store',
    action: 'test',
    namespace: 'gated',
    target: '',
    requestId: '',
  };
  let h: ReturnType<typeof coreHarness>;
  beforeEach(() => {
    h = coreHarness();
  });
  afterEach(() => h.close());

  // Every `available` version is scanned clean today (anything else is quarantined first), so only
  // a version built by hand shows the scan gate refusing.
  it('refuses a file not scanned clean, naming it, and passes a clean version', async () => {
    expect(await unmetGates(h.deps, { scan: 'clean' }, version('error'), undefined)).toEqual([
      { gate: 'scan', message: 'files not scanned clean: a.bin (error)' },
    ]);
    expect(await unmetGates(h.deps, { scan: 'clean' }, version('clean'), undefined)).toEqual([]);
  });

  it('refuses the provenance gate without a verified store provenance, and passes with one and matching publisher claims', async () => {
    const gate = { provenance: { repository: 'org/payments', ref: 'refs/heads/*' } };
    const published = version('clean', claims);
    expect(await unmetGates(h.deps, gate, published, undefined)).toEqual([
      { gate: 'provenance', message: 'no verified store provenance attestation' },
    ]);
    await h.deps.index.putAttestation(published, provenance(false), audit);
    expect(await unmetGates(h.deps, gate, published, undefined)).toHaveLength(1);
    const signed = { ...published, version: '2' };
    await h.deps.index.putAttestation(signed, provenance(true), audit);
    expect(await unmetGates(h.deps, gate, signed, undefined)).toEqual([]);
    // The same metadata without verified claims: the metadata never stands in for them.
    const unclaimed = { ...version('clean'), version: '2' };
    expect(await unmetGates(h.deps, gate, unclaimed, undefined)).toEqual([
      {
        gate: 'provenance',
        message:
          'publisher identity: repository is null, not "org/payments", ref is null, not "refs/heads/*"',
      },
    ]);
  });
});
