/**
 * The store's signed provenance (issue 13): when a version turns `available`, the scan worker signs a
 * DSSE envelope whose payload is an in-toto Statement v1 with a SLSA provenance v1 predicate naming
 * every file, the publisher the store authenticated and the scan verdicts. docs/provenance.md.
 */
import type { Clock, EventPort, Index, MetricsPort, StoreKey, StoreKeys, VersionRef } from '../ports.ts';
import { authorize, authorizeAdmin } from './auth.ts';
import type { Caller, CoreDeps } from './deps.ts';
import { dssePae, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, SLSA_PROVENANCE_V1 } from './dsse.ts';
import { NotFoundError } from './errors.ts';
import { EVENT_TYPES, emitEvent, eventWithFiles, versionData, versionSubject } from './events.ts';
import type { AttestationRecord, DsseEnvelope, Publisher, Version, VersionRecord } from './model.ts';
import { describeVersion } from './versions.ts';

export { dssePae, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, SLSA_PROVENANCE_V1 };

/** Id of the store's own attestation of a version: written once (`putAttestation` refuses a second). */
export const PROVENANCE_ID = 'provenance';
/** What the "build" is from the store's point of view: a publish through Arca's upload API. */
export const ARCA_BUILD_TYPE = 'urn:arca:publish:v1';

/** Who signs the store's attestations, as their audit events and records name it. */
const STORE_ACTOR = 'arca-store';

/** The in-toto Statement v1 the store signs for an `available` version. */
export interface ProvenanceStatement {
  readonly _type: typeof IN_TOTO_STATEMENT_V1;
  readonly subject: readonly { readonly name: string; readonly digest: { readonly sha256: string } }[];
  readonly predicateType: typeof SLSA_PROVENANCE_V1;
  readonly predicate: Readonly<Record<string, unknown>>;
}

/**
 * The statement of a version: subjects from its files, parameters from its record, and the identity
 * from the publisher the store authenticated at commit (OIDC claims verified against the issuer),
 * never from client-supplied metadata.
 */
export function provenanceStatement(record: VersionRecord, version: Version): ProvenanceStatement {
  const publisher: Publisher = record.publisher ?? { id: record.createdBy, kind: 'token' };
  const claims = publisher.claims ?? {};
  const source =
    claims.repository && claims.sha
      ? [{ uri: claims.repository, digest: { gitCommit: claims.sha }, ...refAnnotation(claims.ref) }]
      : [];
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: version.files.map((f) => ({ name: f.name, digest: { sha256: f.sha256 } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: ARCA_BUILD_TYPE,
        externalParameters: {
          namespace: record.namespace,
          package: record.package,
          version: record.version,
          metadata: record.metadata,
        },
        internalParameters: { uploadId: record.uploadId, publisher },
        resolvedDependencies: source,
      },
      runDetails: {
        builder: { id: builderId(publisher) },
        metadata: {
          ...(claims.run_id ? { invocationId: claims.run_id } : {}),
          startedOn: record.createdAt,
          finishedOn: record.createdAt,
        },
        byproducts: version.files.map((f) => ({
          name: `scan/${f.name}`,
          digest: { sha256: f.sha256 },
          annotations: { status: f.scan.status, findings: f.scan.findings.length },
        })),
      },
    },
  };
}

const refAnnotation = (ref: string | undefined) => (ref ? { annotations: { ref } } : {});

/**
 * The builder: for an OIDC caller, its issuer and the verified workflow (GitHub's `workflow_ref`
 * names repository, workflow file and ref at once); otherwise the principal itself.
 */
function builderId(publisher: Publisher): string {
  const claims = publisher.claims ?? {};
  if (publisher.kind === 'oidc' && claims.iss) {
    const workflow =
      claims.workflow_ref ??
      [claims.repository, claims.workflow].filter(Boolean).join('/') + (claims.ref ? `@${claims.ref}` : '');
    return `${claims.iss}#${workflow}`;
  }
  return `urn:arca:${publisher.kind}:${encodeURIComponent(publisher.id)}`;
}

/** Signs a statement as a DSSE envelope with the store's current key. */
export async function signStatement(
  keys: StoreKeys,
  statement: ProvenanceStatement,
): Promise<{ envelope: DsseEnvelope; keyId: string }> {
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const { keyId, signature } = await keys.sign(dssePae(IN_TOTO_PAYLOAD_TYPE, payload));
  const envelope = {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId, sig: Buffer.from(signature).toString('base64') }],
  };
  return { envelope, keyId };
}

export interface ProvenanceDeps {
  readonly index: Index;
  readonly clock: Clock;
  readonly keys: StoreKeys;
  readonly metrics?: MetricsPort;
  readonly events?: EventPort;
}

export type ProvenanceResult = 'signed' | 'present' | 'notAvailable';

/**
 * Signs a version's provenance once it is `available`; safe to call any number of times, from any
 * worker: a version already attested, or not (or no longer) available, is left as it is, and of two
 * racing signers `putAttestation` keeps the first.
 */
export async function ensureProvenance(deps: ProvenanceDeps, ref: VersionRef): Promise<ProvenanceResult> {
  const [record, attestations] = await Promise.all([
    deps.index.getVersion(ref.namespace, ref.package, ref.version),
    deps.index.listAttestations(ref),
  ]);
  if (attestations.some((a) => a.id === PROVENANCE_ID)) return 'present';
  if (!record) return 'notAvailable';
  const blobs = await deps.index.getBlobs(record.files.map((f) => f.sha256));
  const version = describeVersion(record, blobs);
  if (version.state !== 'available') return 'notAvailable';
  // Not signed yet: the version turned available since the last look. Emitted before signing, so a
  // failed signature's retry emits it again, under the same id (dropped as a duplicate).
  deps.metrics?.count('versionsAvailable');
  await emitEvent(
    deps,
    eventWithFiles(
      {
        type: EVENT_TYPES.available,
        change: [record.uploadId],
        namespace: ref.namespace,
        subject: versionSubject(ref),
        time: deps.clock.now(),
        data: { ...versionData(ref), uploadId: record.uploadId },
      },
      version.files,
    ),
  );
  const { envelope, keyId } = await signStatement(deps.keys, provenanceStatement(record, version));
  const now = deps.clock.now().toISOString();
  const target = `${ref.namespace}/${ref.package}@${ref.version}`;
  const written = await deps.index.putAttestation(
    ref,
    {
      id: PROVENANCE_ID,
      kind: 'provenance',
      predicateType: SLSA_PROVENANCE_V1,
      signedBy: keyId,
      verified: true,
      envelope,
      createdAt: now,
      createdBy: STORE_ACTOR,
    },
    {
      at: now,
      actor: STORE_ACTOR,
      action: 'attestation.provenance',
      namespace: ref.namespace,
      target,
      requestId: `provenance:${record.uploadId}`,
      details: { keyId },
    },
  );
  if (written) deps.metrics?.count('versionsSigned');
  return written ? 'signed' : 'present';
}

/** The scan queue's entry for a provenance request (the embedded queue holds plain strings). */
export const provenanceTaskKey = (ref: VersionRef): string =>
  `provenance/${ref.namespace}/${ref.package}/${ref.version}`;

/** Parses a `provenanceTaskKey`; undefined for anything else (staged object keys). */
export function parseProvenanceTaskKey(key: string): VersionRef | undefined {
  const m = /^provenance\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(key);
  return m ? { namespace: m[1]!, package: m[2]!, version: m[3]! } : undefined;
}

/** `GET /v1/keys`: every store key, retired ones included, so any signature the store made verifies. */
export async function listStoreKeys(deps: CoreDeps): Promise<{ keys: StoreKey[] }> {
  return { keys: await deps.keys.list() };
}

/** `POST /v1/keys/rotate` (store admin): a new key signs from now on; the old one stays listed. */
export async function rotateStoreKey(deps: CoreDeps, caller: Caller): Promise<StoreKey> {
  authorizeAdmin(caller.principal);
  const key = await deps.keys.rotate(deps.clock.now());
  await deps.index.appendAudit({
    at: deps.clock.now().toISOString(),
    actor: caller.principal.id,
    action: 'keys.rotate',
    namespace: '*',
    target: key.keyId,
    requestId: caller.requestId,
    details: { keyId: key.keyId },
  });
  return key;
}

/** An attestation as `GET …/attestations` answers it. */
export type AttestationView = Pick<
  AttestationRecord,
  'id' | 'kind' | 'predicateType' | 'signedBy' | 'verified' | 'envelope' | 'sbom'
>;

/** A version's attestations (read): the store's provenance and publishers' envelopes, oldest first. */
export async function listVersionAttestations(
  deps: CoreDeps,
  caller: Caller,
  ref: VersionRef,
): Promise<{ items: AttestationView[] }> {
  authorize(caller.principal, ref.namespace, 'read');
  const record = await deps.index.getVersion(ref.namespace, ref.package, ref.version);
  if (!record) throw new NotFoundError(`version ${ref.namespace}/${ref.package}@${ref.version} not found`);
  const items = await deps.index.listAttestations(ref);
  return {
    items: items.map(({ id, kind, predicateType, signedBy, verified, envelope, sbom }) => ({
      id,
      kind,
      predicateType,
      signedBy,
      verified,
      envelope,
      ...(sbom ? { sbom } : {}),
    })),
  };
}
