import type { NamespaceList, PackageSummary } from '../functions/core/catalog.ts';
import type { AttestationRecord, AuditEvent, DsseEnvelope, Role, Version } from '../functions/core/model.ts';
import { isStage } from '../functions/core/names.ts';
import type { CreatedToken, TokenView, WhoAmI } from '../functions/core/tokens.ts';
import type { CreatedUpload, DeclaredFile } from '../functions/core/uploads.ts';
import type { Authorizer } from './auth.ts';
import { CliError, EXIT, HttpError } from './errors.ts';
import { sendJson } from './http.ts';
import { formatRef, type PackageRef, type VersionRef } from './refs.ts';
import { type RetryPolicy, withRetry } from './retry.ts';

export type { CreatedUpload, DeclaredFile, UploadInstruction } from '../functions/core/uploads.ts';

export type { SignedPart, SignedRequest } from '../functions/ports.ts';
export type { CreatedToken, PackageSummary, Role, TokenView, Version, WhoAmI };

export interface CommittedParts {
  readonly name: string;
  readonly parts: readonly { readonly partNumber: number; readonly etag: string }[];
}

export interface Stage {
  readonly stage: string;
  readonly version: string;
  readonly promotedAt: string;
  readonly history: readonly { version: string; promotedAt: string; by: string }[];
}

/** An attestation as `GET …/attestations` lists it. */
export type Attestation = Pick<
  AttestationRecord,
  'id' | 'kind' | 'predicateType' | 'signedBy' | 'verified' | 'envelope' | 'sbom'
>;

/** A store signing key as `GET /v1/keys` lists it; retired keys still verify older signatures. */
export interface StoreKey {
  readonly keyId: string;
  readonly algorithm: string;
  readonly publicKeyPem: string;
  readonly createdAt: string;
  readonly retiredAt?: string;
}

export interface Lease {
  readonly leaseId: string;
  readonly expiresAt: string;
}

export interface ClientConfig {
  readonly url: string;
  readonly authorize: Authorizer;
  readonly retry: RetryPolicy;
  readonly onRetry?: (what: string, error: unknown, attempt: number, delayMs: number) => void;
}

const seg = encodeURIComponent;
const pkgPath = (ref: PackageRef) => `/v1/packages/${seg(ref.namespace)}/${seg(ref.package)}`;
const versionPath = (ref: VersionRef) => `${pkgPath(ref)}/versions/${seg(ref.version)}`;

/** The Arca HTTP API (shared/API.md), one method per route; transient failures are retried. */
export class ArcaClient {
  constructor(readonly config: ClientConfig) {}

  /** `once`: never retried, for a request whose repeat would do it twice (minting a secret). */
  private call<T>(method: string, path: string, body?: unknown, { once = false } = {}): Promise<T> {
    const base: Record<string, string> = { accept: 'application/json' };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      base['content-type'] = 'application/json';
      base['content-length'] = String(Buffer.byteLength(payload));
    }
    const url = apiUrl(this.config.url, path);
    return withRetry(
      once ? { ...this.config.retry, retries: 0 } : this.config.retry,
      // Authorised per attempt: a SigV4 signature is only valid for a few minutes.
      async () => {
        const headers = await this.config.authorize(method, url, base, payload ?? '');
        return sendJson<T>({ method, url: url.toString(), headers, body: payload });
      },
      (error, attempt, delayMs) => this.config.onRetry?.(`${method} ${path}`, error, attempt, delayMs),
    );
  }

  createUpload(
    input: VersionRef & { files: DeclaredFile[]; metadata: Record<string, string>; pack?: boolean },
  ) {
    return this.call<CreatedUpload>('POST', '/v1/uploads', input);
  }

  commitUpload(uploadId: string, files: readonly CommittedParts[]) {
    return this.call<Version>('POST', `/v1/uploads/${seg(uploadId)}/commit`, { files });
  }

  abortUpload(uploadId: string) {
    return this.call<void>('DELETE', `/v1/uploads/${seg(uploadId)}`);
  }

  getVersion(ref: VersionRef) {
    return this.call<Version>('GET', versionPath(ref));
  }

  listVersions(ref: PackageRef, page: { limit?: number; cursor?: string; includeDeleted?: boolean } = {}) {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.cursor) query.set('cursor', page.cursor);
    if (page.includeDeleted) query.set('include', 'deleted');
    const qs = query.size > 0 ? `?${query}` : '';
    return this.call<{ items: Version[]; nextCursor?: string | null }>(
      'GET',
      `${pkgPath(ref)}/versions${qs}`,
    );
  }

  /** Retried safely: deleting a deleted version changes nothing. */
  deleteVersion(ref: VersionRef, reason: string) {
    return this.call<void>('DELETE', `${versionPath(ref)}?reason=${seg(reason)}`);
  }

  listNamespaces() {
    return this.call<NamespaceList>('GET', '/v1/namespaces');
  }

  listPackages(namespace: string, page: { limit?: number; cursor?: string } = {}) {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.cursor) query.set('cursor', page.cursor);
    const qs = query.size > 0 ? `?${query}` : '';
    return this.call<{ items: PackageSummary[]; nextCursor?: string | null }>(
      'GET',
      `/v1/namespaces/${seg(namespace)}/packages${qs}`,
    );
  }

  /** GET /v1/search with `query` as built by `arca search`. */
  search(query: URLSearchParams) {
    return this.call<{ items: Version[]; nextCursor?: string | null }>('GET', `/v1/search?${query}`);
  }

  getStage(ref: PackageRef, stage: string) {
    return this.call<Stage>('GET', `${pkgPath(ref)}/stages/${seg(stage)}`);
  }

  promote(ref: VersionRef, stage: string) {
    return this.call<{ stage: string; version: string; previousVersion: string | null }>(
      'POST',
      `${versionPath(ref)}/promote`,
      { stage },
    );
  }

  downloadInfo(ref: VersionRef, file: string) {
    return this.call<{ url: string; expiresAt: string; sha256: string; size: number }>(
      'GET',
      `${versionPath(ref)}/files/${seg(file)}?redirect=false`,
    );
  }

  listAttestations(ref: VersionRef) {
    return this.call<{ items: Attestation[] }>('GET', `${versionPath(ref)}/attestations`);
  }

  /** Not retried: a repeat after a lost answer could store the attestation twice. */
  attest(ref: VersionRef, envelope: DsseEnvelope) {
    return this.call<Attestation>('POST', `${versionPath(ref)}/attestations`, envelope, { once: true });
  }

  listKeys() {
    return this.call<{ keys: StoreKey[] }>('GET', '/v1/keys');
  }

  acquireLease(ref: VersionRef, holder: string, ttlSeconds: number) {
    return this.call<Lease>('POST', '/v1/leases', { ...ref, holder, ttlSeconds });
  }

  renewLease(leaseId: string, ttlSeconds: number) {
    return this.call<Lease>('POST', `/v1/leases/${seg(leaseId)}/renew`, { ttlSeconds });
  }

  releaseLease(leaseId: string) {
    return this.call<void>('DELETE', `/v1/leases/${seg(leaseId)}`);
  }

  gc(mode: 'plan' | 'run', run: { budgetSeconds?: number } = {}) {
    return this.call<Record<string, unknown>>('POST', `/v1/gc/${mode}`, mode === 'run' ? run : undefined);
  }

  /** Not in API.md yet: assumed `GET /v1/audit?namespace=&limit=&cursor=` → `{items, nextCursor}`. */
  audit(query: { namespace?: string; limit?: number; cursor?: string }) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const suffix = qs.size > 0 ? `?${qs}` : '';
    return this.call<{ items: AuditEvent[]; nextCursor?: string | null }>('GET', `/v1/audit${suffix}`);
  }

  createToken(input: { name: string; roles: Record<string, Role[]>; ttlSeconds?: number }) {
    // A retry after a lost answer would mint a second token whose secret nobody ever saw.
    return this.call<CreatedToken>('POST', '/v1/tokens', input, { once: true });
  }

  listTokens() {
    return this.call<{ items: TokenView[] }>('GET', '/v1/tokens');
  }

  revokeToken(id: string) {
    return this.call<void>('DELETE', `/v1/tokens/${seg(id)}`);
  }

  whoami() {
    return this.call<WhoAmI>('GET', '/v1/whoami');
  }

  /**
   * The version `ref.version` names: a version of that name, else (when it is a valid stage name) the
   * version that stage points at. Either missing is one clean "not found".
   */
  async resolveVersion(ref: VersionRef): Promise<Version> {
    try {
      return await this.getVersion(ref);
    } catch (error) {
      if (!isNotFound(error) || !isStage(ref.version)) throw error;
    }
    let stage: Stage;
    try {
      stage = await this.getStage(ref, ref.version);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new CliError(
        EXIT.notFound,
        `${formatRef(ref)}: no version or stage named ${ref.version}`,
        'NotFound',
      );
    }
    return this.getVersion({ ...ref, version: stage.version });
  }
}

export const isNotFound = (error: unknown) => error instanceof HttpError && error.status === 404;

/** `path` under the API's base URL, keeping a base path (`https://ci.example/arca` → `/arca/v1/…`). */
export function apiUrl(base: string, path: string): URL {
  const root = new URL(base);
  return new URL(`${root.pathname.replace(/\/+$/, '')}${path}`, root);
}
