/**
 * The domain model: what the index stores and what the API answers. Records are what ports move;
 * `Version` and `VersionFile` are the API's view, derived from records by `describeVersion`.
 */

/** Lowercase hex sha256, without the `sha256:` prefix. */
export type Sha256 = string;

export interface Finding {
  /** Which scanner produced it: `digest`, `signature`, `archive`, `secrets`, … */
  readonly scanner: string;
  readonly rule: string;
  readonly message: string;
  readonly path?: string;
}

export type ScanStatus = 'clean' | 'infected' | 'error' | 'pending';

/** What an archive holds, listed by the scan without unpacking it to disk. */
export interface ArchiveSummary {
  readonly format: 'tar' | 'tar+gzip' | 'gzip' | 'zip';
  readonly entries: number;
  /** Bytes it expands to: tar, the files' sizes; zip, the declared uncompressed sizes. */
  readonly expandedBytes: number;
  /** Entries named like SBOMs (CycloneDX, SPDX), the first 50. */
  readonly sboms: readonly string[];
  /** Archives inside it that were opened and read too (at any depth); absent when none. */
  readonly nested?: number;
  /** Archives inside it past the depth limit: scanned as whole files, not opened (the first 50). */
  readonly unopened?: readonly string[];
  /** Why the listing stopped early (a limit, or a malformed archive); absent when it is complete. */
  readonly incomplete?: string;
}

/** A file that is itself a software bill of materials. */
export interface SbomSummary {
  readonly format: 'CycloneDX' | 'SPDX';
  readonly specVersion?: string;
}

export interface ContentSummary {
  readonly archive?: ArchiveSummary;
  readonly sbom?: SbomSummary;
}

/** One engine that ran in a scan: what it is and which signatures or advisories it used. */
export interface EngineRun {
  readonly name: string;
  readonly version: string;
  /** The database it matched against (ClamAV's build and date, the OSV database's digest…). */
  readonly database?: string;
}

/** One known vulnerability of one component an SBOM lists (OSV advisory matched by version). */
export interface Vulnerability {
  readonly id: string;
  /** Other ids of the same advisory: CVE, GHSA, RUSTSEC, PYSEC, GO… */
  readonly aliases: readonly string[];
  readonly severity: 'none' | 'low' | 'medium' | 'high' | 'critical' | 'unknown';
  /** The CVSS v3 vector and the base score computed from it, when the advisory has one. */
  readonly cvss?: { readonly vector: string; readonly score: number };
  readonly summary?: string;
  readonly component: {
    readonly purl: string;
    readonly ecosystem: string;
    readonly name: string;
    readonly version: string;
  };
  /** The lowest version that fixes it above the component's, when the advisory names one. */
  readonly fixed?: string;
}

/** What matching the file's SBOM components against the advisory database found. */
export interface VulnerabilityReport {
  /** The advisory database matched against (`osv <digest>, N advisories`). */
  readonly database: string;
  readonly matchedAt: string;
  /** Components matched (those with a purl of a known ecosystem). */
  readonly components: number;
  /** The worst 300, worst first. */
  readonly findings: readonly Vulnerability[];
  /** How many more there were, when there were more than 300. */
  readonly omitted?: number;
}

export interface ScanReport {
  readonly status: ScanStatus;
  readonly findings: readonly Finding[];
  readonly scannedAt?: string;
  readonly contents?: ContentSummary;
  /** The engines that ran; absent on reports written before engines were recorded. */
  readonly engines?: readonly EngineRun[];
  /**
   * Purls of the components the file's SBOMs list (the first 2,000): kept so a new advisory
   * database can be matched again without reading the bytes. Absent when it holds no SBOM.
   */
  readonly components?: readonly string[];
  /** Known vulnerabilities of those components; informational: they never quarantine. */
  readonly vulnerabilities?: VulnerabilityReport;
  /** With status `error`: the engine that could not scan the bytes and why (the scan is retried). */
  readonly error?: ScanError;
}

/** An engine that failed to scan (clamd unreachable, the advisory database unreadable). */
export interface ScanError {
  /** The engine's name, as in `engines` (`clamav`, `osv`). */
  readonly engine: string;
  readonly message: string;
}

export type BlobState = 'pending' | 'available' | 'quarantined' | 'deleting';

/** Content-addressed bytes, stored once however many files point at them. */
export interface BlobRecord {
  readonly sha256: Sha256;
  readonly size: number;
  readonly state: BlobState;
  /** Number of committed, not yet deleted version files that point here. */
  readonly refcount: number;
  readonly scan?: ScanReport;
}

export type SessionState = 'open' | 'committed' | 'aborted';

/** What the scan of one staged object concluded about the bytes this session uploaded. */
export type StagedVerdict = 'verified' | 'rejected';

export interface SessionFile {
  readonly name: string;
  readonly size: number;
  readonly sha256: Sha256;
  readonly mediaType: string;
  /** `exists`: the blob was available when the session was created, no bytes expected. */
  readonly action: 'upload' | 'exists';
  /** Where the client uploads (`staging/<uploadId>/<n>`); set for `upload` files. */
  readonly stagingKey?: string;
  /** Storage's own multipart id, for files uploaded in parts. */
  readonly multipartId?: string;
  readonly partSize?: number;
  /**
   * Uploaded inside the session's pack (`staging/<uploadId>/pack`, the packed files' bytes in file
   * order) rather than under its own `stagingKey`, which then names the file to the scan and GC only.
   */
  readonly packed?: true;
  /** Set by the scan worker once it has read the staged bytes. */
  readonly verdict?: StagedVerdict;
  /** Findings for a rejected upload (digest or size mismatch, malware). */
  readonly rejection?: ScanReport;
  /** The last scan attempt failed (status `error`); cleared when a retry records the verdict. */
  readonly scanError?: ScanReport;
}

export interface UploadSession {
  readonly uploadId: string;
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
  readonly state: SessionState;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly createdBy: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly files: readonly SessionFile[];
}

export interface VersionFileRecord {
  readonly name: string;
  readonly sha256: Sha256;
  readonly size: number;
  readonly mediaType: string;
  /** Where this version's bytes were staged; the scan worker uses it to find the file. */
  readonly stagingKey?: string;
  /** Present when this version's upload of the file was rejected by the scan. */
  readonly rejection?: ScanReport;
  /**
   * True from a commit that came before the scan of this version's own upload of the file until
   * that scan verifies it: the file is `pending` whatever the blob's state, so bytes another
   * namespace stored under the same digest are never served for an upload nobody has checked.
   */
  readonly unverified?: boolean;
  /**
   * While the scan of this version's upload of the file keeps failing (an engine unreachable): the
   * last attempt's report, status `error`. The file stays `pending`; the verdict replaces it.
   */
  readonly scanError?: ScanReport;
}

/**
 * `deleting`: tombstoned by retention, restorable within its grace period, then removed.
 * `deleted`: deleted by a namespace admin; never restorable, and its row stays for good so the
 * version number is never published again (GC drops its files and blob references).
 */
export type VersionRecordState = 'live' | 'deleting' | 'deleted';

/** Who deleted a version, when, and why (`DELETE …/versions/{v}`). */
export interface VersionDeletion {
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

export interface VersionRecord {
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
  readonly state: VersionRecordState;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly uploadId: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly files: readonly VersionFileRecord[];
  /** When GC tombstoned it (state `deleting`), and the retention rule that matched. */
  readonly tombstonedAt?: string;
  readonly tombstoneReason?: string;
  /** Who committed it, with the verified CI claims of an OIDC caller; absent on older versions. */
  readonly publisher?: Publisher;
  /** Set once a namespace admin deleted it (state `deleted`). */
  readonly deletion?: VersionDeletion;
}

/** The principal that committed a version, as recorded with it (`createdBy` is its id). */
export interface Publisher {
  readonly id: string;
  readonly kind: PrincipalKind;
  /** Verified OIDC claims (repository, workflow, ref, sha, run id, …). */
  readonly claims?: Readonly<Record<string, string>>;
}

export type VersionState = 'pending' | 'available' | 'quarantined' | 'deleting' | 'deleted';
export type FileState = 'pending' | 'available' | 'quarantined';

/** A file as the API shows it. */
export interface VersionFile {
  readonly name: string;
  readonly sha256: Sha256;
  readonly size: number;
  readonly mediaType: string;
  readonly state: FileState;
  readonly scan: {
    readonly status: ScanStatus;
    readonly findings: readonly Finding[];
    readonly contents?: ContentSummary;
    readonly engines?: readonly EngineRun[];
    readonly scannedAt?: string;
    readonly vulnerabilities?: VulnerabilityReport;
    readonly error?: ScanError;
  };
}

/** A version as the API shows it (shared/API.md § Version). */
export interface Version {
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
  readonly state: VersionState;
  readonly createdAt: string;
  readonly createdBy: string;
  /** Who committed it, with the verified CI claims of an OIDC caller; absent on older versions. */
  readonly publisher?: Publisher;
  readonly metadata: Readonly<Record<string, string>>;
  readonly stages: readonly string[];
  readonly protected: boolean;
  /** Active leases on this version. */
  readonly leases: readonly {
    readonly leaseId: string;
    readonly holder: string;
    readonly expiresAt: string;
  }[];
  readonly files: readonly VersionFile[];
  /** For a `deleted` version: when, by whom and why. */
  readonly deletedAt?: string;
  readonly deletedBy?: string;
  readonly reason?: string;
}

/** Who is calling, as established by the host's authenticator. */
/**
 * What authenticated a caller: the store's admin token (and its own schedules), an Arca token, an
 * IAM principal (AWS), or an OIDC token from a trusted issuer.
 */
export type PrincipalKind = 'admin' | 'token' | 'iam' | 'oidc';

/** Who calls, whatever authenticated it: every authorization decision is made in core from this. */
export interface Principal {
  readonly id: string;
  readonly kind: PrincipalKind;
  /** Store-wide administrator: every namespace, plus GC, audit, keys and every token. */
  readonly admin: boolean;
  /** Per-namespace roles (`*` for every namespace). */
  readonly roles: Readonly<Record<string, readonly Role[]>>;
  /** Namespaces (or `*`) where `promote` reaches only these stages; absent: any stage. */
  readonly promoteStages?: Readonly<Record<string, readonly string[]>>;
  /** Verified claims of an OIDC caller (repository, workflow, ref, sha, run id, …). */
  readonly claims?: Readonly<Record<string, string>>;
}

/** An Arca token as stored: never its secret, only the secret's sha256. */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  /** Lowercase hex sha256 of the secret part of the token. */
  readonly secretHash: string;
  readonly roles: Readonly<Record<string, readonly Role[]>>;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  readonly lastUsedAt?: string;
}

export type Role = 'read' | 'write' | 'promote' | 'admin';

/** One audit event, written in the same transaction as the mutation it records. */
export interface AuditEvent {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly namespace: string;
  /** `<ns>/<pkg>@<version>`, an upload id, a lease id, … */
  readonly target: string;
  readonly requestId: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One move of a stage pointer, kept forever as the stage's history. */
export interface Promotion {
  readonly stage: string;
  readonly version: string;
  readonly previousVersion: string | null;
  readonly promotedAt: string;
  readonly by: string;
}

/** A time-limited hold on a version (a deploy in progress, an audit): GC must honour it. */
export interface Lease {
  readonly leaseId: string;
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
  readonly holder: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
}

export interface RetentionPolicy {
  /** Keep the newest N versions of each package. */
  readonly keepLast: number;
  /** Keep every version younger than this many days. */
  readonly maxAgeDays: number;
  /** Keep the last K distinct versions promoted to each stage (rollback targets). */
  readonly keepPromotedPerStage: number;
  /** Between tombstone and deletion (restore window), and before an unreferenced blob goes. */
  readonly graceHours: number;
}

export interface NamespacePolicy {
  /** Allowed stages, in promotion order; absent: any valid stage name. */
  readonly stages?: readonly string[];
  /** With `stages`: a version enters a stage only from the stage before it. */
  readonly enforceOrder: boolean;
  /** Stages whose pointer, once set, never moves (release tags). */
  readonly immutableStages: readonly string[];
  readonly retention: RetentionPolicy;
  /** OIDC trust: verified tokens matching a rule get its roles in this namespace. */
  readonly trust?: readonly TrustRule[];
  /** IAM principals (role or user ARNs) bound to roles in this namespace. */
  readonly members?: readonly MemberBinding[];
  /** Per stage (one of `stages`): what a version must show before it may enter that stage. */
  readonly gates?: Readonly<Record<string, PromotionGate>>;
  /** Keys publisher attestations must be signed with; absent: they are stored unverified. */
  readonly publisherKeys?: readonly PublisherKey[];
}

/** What a promotion into a stage requires; each field present is one gate, all must be met. */
export interface PromotionGate {
  /** Every file's scan verdict is clean. */
  readonly scan?: 'clean';
  /** Metadata keys the version must carry. */
  readonly metadata?: readonly string[];
  /**
   * The store's verified provenance attestation exists, and the publisher's verified OIDC claims
   * match these values (exact, or prefix for a value ending in `*`, as in trust rules).
   */
  readonly provenance?: Readonly<Record<string, string>>;
  /** predicateTypes of which the version needs a verified attestation each. */
  readonly attestations?: readonly string[];
  /** Time the version must have spent in the stage before this one in `stages`. */
  readonly minSoakSeconds?: number;
  /**
   * No known vulnerability above this severity in the components of the version's SBOMs (an
   * advisory without a severity counts as above any); needs an advisory database.
   */
  readonly vulnerabilities?: { readonly maxSeverity: 'none' | 'low' | 'medium' | 'high' | 'critical' };
}

/** A publisher's public key that the namespace trusts to sign attestations. */
export interface PublisherKey {
  readonly keyId: string;
  /** SPKI PEM: ECDSA P-256/P-384, RSA or Ed25519. */
  readonly publicKeyPem: string;
}

/**
 * Maps verified OIDC claims to roles in the namespace whose policy holds it: a token from `issuer`,
 * for `audience`, whose every listed claim equals the value (or starts with it, for a value ending
 * in `*`) gets `roles`; with `stages`, `promote` reaches only those stages.
 */
export interface TrustRule {
  readonly issuer: string;
  readonly audience: string;
  readonly claims: Readonly<Record<string, string>>;
  readonly roles: readonly Role[];
  readonly stages?: readonly string[];
}

/** An IAM principal's roles in a namespace: a role ARN also binds every session of that role. */
export interface MemberBinding {
  readonly principal: string;
  readonly roles: readonly Role[];
  readonly stages?: readonly string[];
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  keepLast: 10,
  maxAgeDays: 30,
  keepPromotedPerStage: 5,
  graceHours: 24,
};

export const DEFAULT_POLICY: NamespacePolicy = {
  enforceOrder: false,
  immutableStages: [],
  retention: DEFAULT_RETENTION,
};

/** Per package: the current stage pointers and, per stage, the distinct versions promoted there, newest first. */
export interface PackageStages {
  readonly pointers: ReadonlyMap<string, string>;
  readonly promoted: ReadonlyMap<string, readonly string[]>;
}

/** A DSSE envelope (in-toto attestations, cosign): the payload signed over its PAE. */
export interface DsseEnvelope {
  readonly payloadType: string;
  /** Standard base64 of the payload bytes. */
  readonly payload: string;
  readonly signatures: readonly { readonly keyid?: string; readonly sig: string }[];
}

/**
 * An attestation of a version: the store's own provenance (one per version, id `provenance`,
 * signed by the store's key) or one a publisher uploaded.
 */
export interface AttestationRecord {
  readonly id: string;
  readonly kind: 'provenance' | 'publisher';
  readonly predicateType: string;
  /** Id of the key whose signature verified; empty when none did. */
  readonly signedBy: string;
  readonly verified: boolean;
  readonly envelope: DsseEnvelope;
  readonly createdAt: string;
  readonly createdBy: string;
  /** A publisher attestation whose predicate is an SBOM (CycloneDX, SPDX): what it lists, matched. */
  readonly sbom?: AttestedSbom;
}

/**
 * The SBOM of an attestation (predicateType `https://cyclonedx.org/bom` or `https://spdx.dev/Document`),
 * read like a published SBOM file: its components' purls (the first 2,000) and, with an advisory
 * database, their known vulnerabilities (absent until matched; re-matched when the database changes).
 */
export interface AttestedSbom {
  readonly format: 'CycloneDX' | 'SPDX';
  readonly components: readonly string[];
  readonly vulnerabilities?: VulnerabilityReport;
}
