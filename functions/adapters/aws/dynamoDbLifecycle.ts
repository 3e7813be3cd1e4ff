import type { VulnerabilityReport } from '../../core/model.ts';
import type {
  AccessIndex,
  AttestationIndex,
  AttestationRecord,
  AuditEvent,
  Lease,
  LifecycleIndex,
  NamespacePolicy,
  Page,
  PromoteInput,
  Sha256,
  TokenRecord,
  VersionDeletion,
  VersionRef,
} from '../../ports.ts';
import { DynamoDbAccess } from './dynamoDbAccess.ts';
import { retentionCandidates } from './dynamoDbCandidates.ts';
import { DynamoDbCatalog } from './dynamoDbCatalog.ts';
import { DynamoDbDiscovery } from './dynamoDbDiscovery.ts';
import { DynamoDbGc } from './dynamoDbGc.ts';
import { DynamoDbLeases } from './dynamoDbLeases.ts';
import { DynamoDbRetention } from './dynamoDbRetention.ts';
import { DynamoDbStages } from './dynamoDbStages.ts';
import type { DynamoTable } from './dynamoDbTable.ts';

/**
 * The LifecycleIndex half of the DynamoDB index, composed of one part per concern (stages, leases,
 * catalog, retention, GC work lists), each in its own file and all on the same table.
 */
export abstract class DynamoDbLifecycleIndex implements LifecycleIndex, AccessIndex, AttestationIndex {
  private readonly stages: DynamoDbStages;
  private readonly leases: DynamoDbLeases;
  private readonly catalog: DynamoDbCatalog;
  private readonly retention: DynamoDbRetention;
  private readonly gc: DynamoDbGc;
  private readonly access: DynamoDbAccess;
  private readonly discovery: DynamoDbDiscovery;

  constructor(protected readonly table: DynamoTable) {
    this.stages = new DynamoDbStages(table);
    this.leases = new DynamoDbLeases(table);
    this.catalog = new DynamoDbCatalog(table);
    this.retention = new DynamoDbRetention(table);
    this.gc = new DynamoDbGc(table);
    this.access = new DynamoDbAccess(table);
    this.discovery = new DynamoDbDiscovery(table);
  }

  promote(input: PromoteInput, audit: AuditEvent) {
    return this.stages.promote(input, audit);
  }
  getStage(namespace: string, pkg: string, stage: string, historyLimit: number) {
    return this.stages.getStage(namespace, pkg, stage, historyLimit);
  }
  getPackageStages(namespace: string, pkg: string, perStage: number) {
    return this.stages.getPackageStages(namespace, pkg, perStage);
  }

  acquireLease(lease: Lease, audit: AuditEvent) {
    return this.leases.acquireLease(lease, audit);
  }
  getLease(leaseId: string) {
    return this.leases.getLease(leaseId);
  }
  renewLease(leaseId: string, expiresAt: Date, now: Date, audit: AuditEvent) {
    return this.leases.renewLease(leaseId, expiresAt, now, audit);
  }
  releaseLease(leaseId: string, audit: AuditEvent) {
    return this.leases.releaseLease(leaseId, audit);
  }
  activeLeases(namespace: string, pkg: string, now: Date) {
    return this.leases.activeLeases(namespace, pkg, now);
  }

  listPolicies() {
    return this.catalog.listPolicies();
  }
  getPolicy(namespace: string) {
    return this.catalog.getPolicy(namespace);
  }
  putPolicy(namespace: string, policy: NamespacePolicy, audit: AuditEvent) {
    return this.catalog.putPolicy(namespace, policy, audit);
  }
  appendAudit(event: AuditEvent) {
    return this.catalog.appendAudit(event);
  }
  listAudit(filter: { namespace?: string; since?: string }, limit: number, after?: string) {
    return this.catalog.listAudit(filter, limit, after);
  }
  async listNamespaces() {
    return this.discovery.listNamespaces((await this.catalog.listPolicies()).keys());
  }
  listNamespacePackages(namespace: string, limit: number, after?: string) {
    return this.discovery.listNamespacePackages(namespace, limit, after);
  }
  listPackages(limit: number, after?: string): Promise<Page<{ namespace: string; package: string }>> {
    return this.catalog.listPackages(limit, after);
  }
  listVersionSummaries(namespace: string, pkg: string) {
    return this.catalog.listVersionSummaries(namespace, pkg);
  }
  listRetentionCandidates(namespace: string, pkg: string, keepLast: number, createdBefore: Date) {
    return retentionCandidates(this.table, namespace, pkg, keepLast, createdBefore);
  }

  tombstoneVersion(ref: VersionRef, reason: string, now: Date, audit: AuditEvent) {
    return this.retention.tombstoneVersion(ref, reason, now, audit);
  }
  markVersionDeleted(ref: VersionRef, deletion: VersionDeletion, now: Date, audit: AuditEvent) {
    return this.retention.markVersionDeleted(ref, deletion, now, audit);
  }
  restoreVersion(ref: VersionRef, audit: AuditEvent) {
    return this.retention.restoreVersion(ref, audit);
  }
  listTombstoned(cutoff: Date, limit: number) {
    return this.retention.listTombstoned(cutoff, limit);
  }
  deleteVersion(ref: VersionRef, cutoff: Date, now: Date, audit: AuditEvent) {
    return this.retention.deleteVersion(ref, cutoff, now, audit);
  }

  listExpiredSessions(now: Date, limit: number) {
    return this.gc.listExpiredSessions(now, limit);
  }
  expireSession(uploadId: string, now: Date, audit: AuditEvent) {
    return this.gc.expireSession(uploadId, now, audit);
  }
  /** The table's TTL attribute (set on every session item) removes finished sessions. */
  async purgeSessions(_before: Date, _limit: number): Promise<number> {
    return 0;
  }
  listDeletableBlobs(cutoff: Date, limit: number) {
    return this.gc.listDeletableBlobs(cutoff, limit);
  }
  markBlobsDeleting(sha256s: readonly Sha256[], cutoff: Date) {
    return this.gc.markBlobsDeleting(sha256s, cutoff);
  }
  listDeletingBlobs(limit: number) {
    return this.gc.listDeletingBlobs(limit);
  }
  forgetBlobs(sha256s: readonly Sha256[], audit: (sha256: Sha256) => AuditEvent) {
    return this.gc.forgetBlobs(sha256s, audit);
  }
  putToken(token: TokenRecord, audit: AuditEvent) {
    return this.access.putToken(token, audit);
  }
  getToken(id: string) {
    return this.access.getToken(id);
  }
  listTokens() {
    return this.access.listTokens();
  }
  revokeToken(id: string, at: string, audit: AuditEvent) {
    return this.access.revokeToken(id, at, audit);
  }
  touchToken(id: string, at: string) {
    return this.access.touchToken(id, at);
  }
  putAttestation(ref: VersionRef, attestation: AttestationRecord, audit: AuditEvent) {
    return this.access.putAttestation(ref, attestation, audit);
  }
  listAttestations(ref: VersionRef) {
    return this.access.listAttestations(ref);
  }
  listAttestedSboms() {
    return this.access.listAttestedSboms();
  }
  setAttestationVulnerabilities(ref: VersionRef, id: string, vulnerabilities: VulnerabilityReport) {
    return this.access.setAttestationVulnerabilities(ref, id, vulnerabilities);
  }
  acquireGcLock(holder: string, now: Date, until: Date) {
    return this.gc.acquireGcLock(holder, now, until);
  }
  releaseGcLock(holder: string | null) {
    return this.gc.releaseGcLock(holder);
  }
  getGcPosition() {
    return this.gc.getGcPosition();
  }
  saveGcPosition(holder: string, position: string | null) {
    return this.gc.saveGcPosition(holder, position);
  }
}
