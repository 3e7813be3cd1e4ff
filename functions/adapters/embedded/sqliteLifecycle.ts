import type Database from 'better-sqlite3';
import { isString, parsePosition } from '../../core/cursor.ts';
import {
  ConflictError,
  NotFoundError,
  NotPromotableError,
  StageImmutableError,
  StageOrderViolationError,
} from '../../core/errors.ts';
import type { Lease, NamespacePolicy, Promotion } from '../../core/model.ts';
import type {
  AuditEvent,
  LifecycleIndex,
  Page,
  PromoteInput,
  Sha256,
  StageView,
  StoredSession,
  VersionDeletion,
  VersionRef,
  VersionSummary,
} from '../../ports.ts';

interface LeaseRow {
  lease_id: string;
  namespace: string;
  package: string;
  version: string;
  holder: string;
  created_at: string;
  created_by: string;
  expires_at: string;
}

const toLease = (r: LeaseRow): Lease => ({
  leaseId: r.lease_id,
  namespace: r.namespace,
  package: r.package,
  version: r.version,
  holder: r.holder,
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
});

interface PromotionRow {
  stage: string;
  version: string;
  previous_version: string | null;
  promoted_at: string;
  promoted_by: string;
}

const toPromotion = (r: PromotionRow): Promotion => ({
  stage: r.stage,
  version: r.version,
  previousVersion: r.previous_version,
  promotedAt: r.promoted_at,
  by: r.promoted_by,
});

const GC_LOCK = 'gc';

const prepare = (db: Database.Database) => {
  const p = (sql: string) => db.prepare(sql);
  return {
    audit: p(`INSERT INTO audit (at, actor, action, namespace, target, request_id, details)
      VALUES (@at, @actor, @action, @namespace, @target, @requestId, @details)`),
    versionState: p('SELECT state FROM versions WHERE namespace = ? AND package = ? AND version = ?'),
    promotedTo: p(
      'SELECT 1 FROM promotions WHERE namespace = ? AND package = ? AND version = ? AND stage = ? LIMIT 1',
    ),
    pointer: p('SELECT * FROM stages WHERE namespace = ? AND package = ? AND stage = ?'),
    setPointer: p(`INSERT INTO stages VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (namespace, package, stage)
      DO UPDATE SET version = excluded.version, promoted_at = excluded.promoted_at, promoted_by = excluded.promoted_by`),
    addPromotion:
      p(`INSERT INTO promotions (namespace, package, stage, version, previous_version, promoted_at, promoted_by)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    history: p(`SELECT stage, version, previous_version, promoted_at, promoted_by FROM promotions
      WHERE namespace = ? AND package = ? AND stage = ? ORDER BY id DESC LIMIT ?`),
    pointers: p('SELECT stage, version FROM stages WHERE namespace = ? AND package = ?'),
    promotedVersions:
      p(`SELECT stage, version, MAX(id) AS last FROM promotions WHERE namespace = ? AND package = ?
      GROUP BY stage, version ORDER BY stage, last DESC`),
    insertLease: p('INSERT INTO leases VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    getLease: p('SELECT * FROM leases WHERE lease_id = ?'),
    renewLease: p('UPDATE leases SET expires_at = ? WHERE lease_id = ?'),
    deleteLease: p('DELETE FROM leases WHERE lease_id = ?'),
    activeLeases: p(
      'SELECT * FROM leases WHERE namespace = ? AND package = ? AND expires_at > ? ORDER BY expires_at',
    ),
    getPolicy: p('SELECT policy FROM policies WHERE namespace = ?'),
    allPolicies: p('SELECT namespace, policy FROM policies'),
    putPolicy: p(
      'INSERT INTO policies VALUES (?, ?) ON CONFLICT (namespace) DO UPDATE SET policy = excluded.policy',
    ),
    audits:
      p(`SELECT * FROM audit WHERE (@namespace IS NULL OR namespace = @namespace) AND at >= @since AND id > @after
      ORDER BY id LIMIT @limit`),
    // Both walk the versions primary key (namespace, package, version) one distinct value at a time,
    // so their cost grows with what they answer, not with the number of versions.
    namespaces: p(`WITH RECURSIVE walk(name) AS (
        SELECT MIN(namespace) FROM versions
        UNION ALL SELECT (SELECT MIN(namespace) FROM versions WHERE namespace > walk.name) FROM walk
          WHERE walk.name IS NOT NULL)
      SELECT name AS namespace FROM walk WHERE name IS NOT NULL
      UNION SELECT namespace FROM policies ORDER BY namespace`),
    namespacePackages: p(`WITH RECURSIVE walk(name) AS (
        SELECT MIN(package) FROM versions WHERE namespace = @namespace AND package > @after
        UNION ALL SELECT (SELECT MIN(package) FROM versions WHERE namespace = @namespace AND package > walk.name)
          FROM walk WHERE walk.name IS NOT NULL LIMIT @limit)
      SELECT name AS package FROM walk WHERE name IS NOT NULL`),
    packagesFirst: p('SELECT DISTINCT namespace, package FROM versions ORDER BY namespace, package LIMIT ?'),
    packagesAfter: p(`SELECT DISTINCT namespace, package FROM versions WHERE (namespace, package) > (?, ?)
      ORDER BY namespace, package LIMIT ?`),
    // The live versions past the newest `keepLast` (OFFSET), committed before the cutoff.
    candidates: p(`SELECT v.namespace, v.package, v.version, v.state, v.created_at, v.tombstoned_at,
        group_concat(f.sha256) AS shas
      FROM (SELECT * FROM versions WHERE namespace = ? AND package = ? AND state = 'live'
        ORDER BY created_at DESC, seq DESC LIMIT -1 OFFSET ?) v
      LEFT JOIN files f USING (namespace, package, version)
      WHERE v.created_at < ? GROUP BY v.seq ORDER BY v.created_at DESC, v.seq DESC`),
    summaries: p(`SELECT v.namespace, v.package, v.version, v.state, v.created_at, v.tombstoned_at,
        group_concat(f.sha256) AS shas
      FROM versions v LEFT JOIN files f USING (namespace, package, version)
      WHERE v.namespace = ? AND v.package = ? GROUP BY v.seq ORDER BY v.created_at DESC, v.seq DESC`),
    tombstone: p(`UPDATE versions SET state = 'deleting', tombstoned_at = @now, tombstone_reason = @reason
      WHERE namespace = @namespace AND package = @package AND version = @version AND state = 'live'
        AND NOT EXISTS (SELECT 1 FROM stages s WHERE s.namespace = @namespace AND s.package = @package AND s.version = @version)
        AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.namespace = @namespace AND l.package = @package
          AND l.version = @version AND l.expires_at > @now)`),
    markDeleted: p(`UPDATE versions SET state = 'deleted', tombstoned_at = @at, deleted_at = @at,
        deleted_by = @by, delete_reason = @reason
      WHERE namespace = @namespace AND package = @package AND version = @version
        AND state IN ('live', 'deleting')
        AND NOT EXISTS (SELECT 1 FROM stages s WHERE s.namespace = @namespace AND s.package = @package AND s.version = @version)
        AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.namespace = @namespace AND l.package = @package
          AND l.version = @version AND l.expires_at > @now)`),
    restore: p(`UPDATE versions SET state = 'live', tombstoned_at = NULL, tombstone_reason = NULL
      WHERE namespace = ? AND package = ? AND version = ? AND state = 'deleting'`),
    tombstoned: p(`SELECT namespace, package, version, state, tombstoned_at FROM versions
      WHERE state IN ('deleting', 'deleted') AND tombstoned_at <= ? ORDER BY tombstoned_at LIMIT ?`),
    deletable: p(`SELECT state FROM versions WHERE namespace = ? AND package = ? AND version = ?
      AND state IN ('deleting', 'deleted') AND tombstoned_at <= ?`),
    // A deleted version's row stays, so its number is never published again; only its files go.
    purgeDeleted: p(
      'UPDATE versions SET tombstoned_at = NULL WHERE namespace = ? AND package = ? AND version = ?',
    ),
    fileShas: p('SELECT sha256 FROM files WHERE namespace = ? AND package = ? AND version = ?'),
    deleteFiles: p('DELETE FROM files WHERE namespace = ? AND package = ? AND version = ?'),
    deleteVersion: p('DELETE FROM versions WHERE namespace = ? AND package = ? AND version = ?'),
    unref: p(`UPDATE blobs SET refcount = refcount - 1,
      unreferenced_since = CASE WHEN refcount = 1 THEN MAX(COALESCE(unreferenced_since, ''), ?) ELSE unreferenced_since END
      WHERE sha256 = ?`),
    expiredSessions: p(
      "SELECT * FROM sessions WHERE state = 'open' AND expires_at < ? ORDER BY expires_at LIMIT ?",
    ),
    expireSession: p(`UPDATE sessions SET state = 'aborted', revision = revision + 1
      WHERE upload_id = ? AND state = 'open' AND expires_at < ?`),
    deletableBlobs:
      p(`SELECT sha256 FROM blobs WHERE refcount = 0 AND unreferenced_since <= ? AND state != 'deleting'
      ORDER BY unreferenced_since LIMIT ?`),
    markDeleting:
      p(`UPDATE blobs SET state = 'deleting' WHERE sha256 = ? AND refcount = 0 AND unreferenced_since <= ?
      AND state != 'deleting'`),
    forgetBlob: p("DELETE FROM blobs WHERE sha256 = ? AND state = 'deleting' AND refcount = 0"),
    deletingBlobs: p("SELECT sha256 FROM blobs WHERE state = 'deleting' LIMIT ?"),
    takeLock: p(`INSERT INTO locks VALUES (@name, @holder, @until) ON CONFLICT (name) DO UPDATE
      SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE locks.expires_at <= @now OR locks.holder = excluded.holder`),
    releaseLock: p('DELETE FROM locks WHERE name = ? AND holder = ?'),
    purgeSessions: p(`DELETE FROM sessions WHERE upload_id IN (SELECT upload_id FROM sessions
      WHERE state IN ('committed', 'aborted') AND expires_at < ? LIMIT ?)`),
    breakLock: p('DELETE FROM locks WHERE name = ?'),
    lockHolder: db.prepare<[string], { holder: string }>('SELECT holder FROM locks WHERE name = ?'),
    gcPosition: db.prepare<[], { value: string }>("SELECT value FROM gc_state WHERE name = 'position'"),
    saveGcPosition: p(`INSERT INTO gc_state VALUES ('position', ?) ON CONFLICT (name) DO UPDATE
      SET value = excluded.value`),
    clearGcPosition: p("DELETE FROM gc_state WHERE name = 'position'"),
  };
};

/**
 * Stages, leases, policies, audit and GC work lists on SQLite. Each conditional step is one
 * statement or one `BEGIN IMMEDIATE` transaction, so its condition and its write see no other writer.
 */
export abstract class SqliteLifecycleIndex implements LifecycleIndex {
  private readonly l;

  constructor(protected readonly db: Database.Database) {
    this.l = prepare(db);
  }

  protected writeAudit(e: AuditEvent): void {
    this.l.audit.run({ ...e, details: e.details === undefined ? null : JSON.stringify(e.details) });
  }

  protected abstract readSessionRow(row: unknown): StoredSession;

  async promote(input: PromoteInput, audit: AuditEvent): Promise<{ previousVersion: string | null }> {
    const { namespace: ns, package: pkg, version, stage } = input;
    return this.db
      .transaction(() => {
        const row = this.l.versionState.get(ns, pkg, version) as { state: string } | undefined;
        if (!row) throw new NotFoundError(`version ${ns}/${pkg}@${version} not found`);
        if (row.state !== 'live')
          throw new NotPromotableError(
            `version ${ns}/${pkg}@${version} is ${row.state === 'deleted' ? 'deleted' : 'being deleted'}`,
            { details: { state: row.state } },
          );
        if (input.requirePriorStage && !this.l.promotedTo.get(ns, pkg, version, input.requirePriorStage)) {
          throw new StageOrderViolationError(
            `${version} must be promoted to ${input.requirePriorStage} before ${stage}`,
            {
              details: { requiredStage: input.requirePriorStage },
            },
          );
        }
        const current =
          (this.l.pointer.get(ns, pkg, stage) as { version: string } | undefined)?.version ?? null;
        if (current === version) return { previousVersion: current };
        if (input.immutable && current !== null) {
          throw new StageImmutableError(`stage ${stage} is immutable and already names ${current}`, {
            details: { current },
          });
        }
        const at = input.now.toISOString();
        this.l.setPointer.run(ns, pkg, stage, version, at, input.by);
        this.l.addPromotion.run(ns, pkg, stage, version, current, at, input.by);
        this.writeAudit({ ...audit, details: { ...audit.details, previousVersion: current } });
        return { previousVersion: current };
      })
      .immediate();
  }

  async getStage(
    namespace: string,
    pkg: string,
    stage: string,
    historyLimit: number,
  ): Promise<StageView | null> {
    const row = this.l.pointer.get(namespace, pkg, stage) as
      | { version: string; promoted_at: string }
      | undefined;
    if (!row) return null;
    const history = (this.l.history.all(namespace, pkg, stage, historyLimit) as PromotionRow[]).map(
      toPromotion,
    );
    return { stage, version: row.version, promotedAt: row.promoted_at, history };
  }

  async getPackageStages(namespace: string, pkg: string, perStage: number) {
    const pointers = new Map(
      (this.l.pointers.all(namespace, pkg) as { stage: string; version: string }[]).map((r) => [
        r.stage,
        r.version,
      ]),
    );
    const promoted = new Map<string, string[]>();
    for (const r of this.l.promotedVersions.all(namespace, pkg) as { stage: string; version: string }[]) {
      const list = promoted.get(r.stage) ?? [];
      if (list.length < perStage) list.push(r.version);
      promoted.set(r.stage, list);
    }
    return { pointers, promoted };
  }

  async acquireLease(lease: Lease, audit: AuditEvent): Promise<void> {
    this.db
      .transaction(() => {
        const row = this.l.versionState.get(lease.namespace, lease.package, lease.version) as
          | { state: string }
          | undefined;
        if (!row)
          throw new NotFoundError(`version ${lease.namespace}/${lease.package}@${lease.version} not found`);
        if (row.state === 'deleted') throw new ConflictError(`version ${lease.version} is deleted`);
        if (row.state !== 'live')
          throw new ConflictError(`version ${lease.version} is being deleted; restore it first`);
        const l = lease;
        this.l.insertLease.run(
          l.leaseId,
          l.namespace,
          l.package,
          l.version,
          l.holder,
          l.createdAt,
          l.createdBy,
          l.expiresAt,
        );
        this.writeAudit(audit);
      })
      .immediate();
  }

  async getLease(leaseId: string): Promise<Lease | null> {
    const row = this.l.getLease.get(leaseId) as LeaseRow | undefined;
    return row ? toLease(row) : null;
  }

  async renewLease(leaseId: string, expiresAt: Date, now: Date, audit: AuditEvent): Promise<Lease> {
    return this.db
      .transaction(() => {
        const row = this.l.getLease.get(leaseId) as LeaseRow | undefined;
        if (!row) throw new NotFoundError(`lease ${leaseId} not found`);
        if (row.expires_at <= now.toISOString())
          throw new ConflictError(`lease ${leaseId} expired at ${row.expires_at}`);
        this.l.renewLease.run(expiresAt.toISOString(), leaseId);
        this.writeAudit(audit);
        return toLease({ ...row, expires_at: expiresAt.toISOString() });
      })
      .immediate();
  }

  async releaseLease(leaseId: string, audit: AuditEvent): Promise<void> {
    this.db
      .transaction(() => {
        if (this.l.deleteLease.run(leaseId).changes === 0)
          throw new NotFoundError(`lease ${leaseId} not found`);
        this.writeAudit(audit);
      })
      .immediate();
  }

  async activeLeases(namespace: string, pkg: string, now: Date): Promise<Lease[]> {
    return (this.l.activeLeases.all(namespace, pkg, now.toISOString()) as LeaseRow[]).map(toLease);
  }

  async listPolicies(): Promise<Map<string, NamespacePolicy>> {
    const rows = this.l.allPolicies.all() as { namespace: string; policy: string }[];
    return new Map(rows.map((r) => [r.namespace, JSON.parse(r.policy) as NamespacePolicy]));
  }

  async getPolicy(namespace: string): Promise<NamespacePolicy | null> {
    const row = this.l.getPolicy.get(namespace) as { policy: string } | undefined;
    return row ? JSON.parse(row.policy) : null;
  }

  async putPolicy(namespace: string, policy: NamespacePolicy, audit: AuditEvent): Promise<void> {
    this.db
      .transaction(() => {
        this.l.putPolicy.run(namespace, JSON.stringify(policy));
        this.writeAudit(audit);
      })
      .immediate();
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.writeAudit(event);
  }

  async listAudit(
    filter: { namespace?: string; since?: string },
    limit: number,
    after?: string,
  ): Promise<Page<AuditEvent>> {
    const rows = this.l.audits.all({
      namespace: filter.namespace ?? null,
      since: filter.since ?? '',
      after: after === undefined ? 0 : Number(after),
      limit: limit + 1,
    }) as {
      id: number;
      at: string;
      actor: string;
      action: string;
      namespace: string;
      target: string;
      request_id: string;
      details: string | null;
    }[];
    const items = rows.slice(0, limit).map((r) => ({
      at: r.at,
      actor: r.actor,
      action: r.action,
      namespace: r.namespace,
      target: r.target,
      requestId: r.request_id,
      ...(r.details === null ? {} : { details: JSON.parse(r.details) }),
    }));
    return { items, ...(rows.length > limit ? { next: String(rows[limit - 1]!.id) } : {}) };
  }

  async listNamespaces(): Promise<string[]> {
    return (this.l.namespaces.all() as { namespace: string }[]).map((r) => r.namespace);
  }

  async listNamespacePackages(namespace: string, limit: number, after?: string): Promise<Page<string>> {
    const from = after === undefined ? '' : (parsePosition(after, [isString]) as [string])[0];
    const names = (
      this.l.namespacePackages.all({ namespace, after: from, limit: limit + 1 }) as { package: string }[]
    ).map((r) => r.package);
    const page = names.slice(0, limit);
    return { items: page, ...(names.length > limit ? { next: JSON.stringify([page.at(-1)]) } : {}) };
  }

  async listPackages(limit: number, after?: string): Promise<Page<{ namespace: string; package: string }>> {
    const from = after === undefined ? undefined : (JSON.parse(after) as [string, string]);
    const rows = (
      from ? this.l.packagesAfter.all(from[0], from[1], limit) : this.l.packagesFirst.all(limit)
    ) as { namespace: string; package: string }[];
    const last = rows.at(-1);
    return {
      items: rows,
      ...(rows.length === limit && last ? { next: JSON.stringify([last.namespace, last.package]) } : {}),
    };
  }

  async listVersionSummaries(namespace: string, pkg: string): Promise<VersionSummary[]> {
    return this.l.summaries.all(namespace, pkg).map(toSummary);
  }

  async listRetentionCandidates(
    namespace: string,
    pkg: string,
    keepLast: number,
    createdBefore: Date,
  ): Promise<VersionSummary[]> {
    return this.l.candidates.all(namespace, pkg, keepLast, createdBefore.toISOString()).map(toSummary);
  }

  async tombstoneVersion(ref: VersionRef, reason: string, now: Date, audit: AuditEvent): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.l.tombstone.run({ ...ref, now: now.toISOString(), reason }).changes === 0) return false;
        this.writeAudit(audit);
        return true;
      })
      .immediate();
  }

  async restoreVersion(ref: VersionRef, audit: AuditEvent): Promise<void> {
    this.db
      .transaction(() => {
        if (this.l.restore.run(ref.namespace, ref.package, ref.version).changes === 0) {
          throw new NotFoundError(`no tombstoned version ${ref.namespace}/${ref.package}@${ref.version}`);
        }
        this.writeAudit(audit);
      })
      .immediate();
  }

  async markVersionDeleted(
    ref: VersionRef,
    deletion: VersionDeletion,
    now: Date,
    audit: AuditEvent,
  ): Promise<boolean> {
    return this.db
      .transaction(() => {
        const marked = this.l.markDeleted.run({
          ...ref,
          at: deletion.at,
          by: deletion.by,
          reason: deletion.reason,
          now: now.toISOString(),
        });
        if (marked.changes === 0) return false;
        this.writeAudit(audit);
        return true;
      })
      .immediate();
  }

  async listTombstoned(cutoff: Date, limit: number) {
    type Row = { namespace: string; package: string; version: string; state: string; tombstoned_at: string };
    return (this.l.tombstoned.all(cutoff.toISOString(), limit) as Row[]).map((r) => ({
      namespace: r.namespace,
      package: r.package,
      version: r.version,
      tombstonedAt: r.tombstoned_at,
      ...(r.state === 'deleted' ? { deleted: true } : {}),
    }));
  }

  async deleteVersion(ref: VersionRef, cutoff: Date, now: Date, audit: AuditEvent): Promise<boolean> {
    const key = [ref.namespace, ref.package, ref.version] as const;
    return this.db
      .transaction(() => {
        const row = this.l.deletable.get(...key, cutoff.toISOString()) as { state: string } | undefined;
        if (!row) return false;
        const shas = (this.l.fileShas.all(...key) as { sha256: string }[]).map((r) => r.sha256);
        this.l.deleteFiles.run(...key);
        if (row.state === 'deleted') this.l.purgeDeleted.run(...key);
        else this.l.deleteVersion.run(...key);
        for (const sha of shas) this.l.unref.run(now.toISOString(), sha);
        this.writeAudit(audit);
        return true;
      })
      .immediate();
  }

  async listExpiredSessions(now: Date, limit: number): Promise<StoredSession[]> {
    return this.l.expiredSessions.all(now.toISOString(), limit).map((r) => this.readSessionRow(r));
  }

  async expireSession(uploadId: string, now: Date, audit: AuditEvent): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.l.expireSession.run(uploadId, now.toISOString()).changes === 0) return false;
        this.writeAudit(audit);
        return true;
      })
      .immediate();
  }

  async purgeSessions(before: Date, limit: number): Promise<number> {
    return this.l.purgeSessions.run(before.toISOString(), limit).changes;
  }

  async listDeletableBlobs(cutoff: Date, limit: number): Promise<Sha256[]> {
    return (this.l.deletableBlobs.all(cutoff.toISOString(), limit) as { sha256: string }[]).map(
      (r) => r.sha256,
    );
  }

  async markBlobsDeleting(sha256s: readonly Sha256[], cutoff: Date): Promise<Sha256[]> {
    return this.db
      .transaction(() =>
        sha256s.filter((sha) => this.l.markDeleting.run(sha, cutoff.toISOString()).changes === 1),
      )
      .immediate();
  }

  async listDeletingBlobs(limit: number): Promise<Sha256[]> {
    return (this.l.deletingBlobs.all(limit) as { sha256: string }[]).map((r) => r.sha256);
  }

  async acquireGcLock(holder: string, now: Date, until: Date): Promise<boolean> {
    const taken = this.l.takeLock.run({
      name: GC_LOCK,
      holder,
      until: until.toISOString(),
      now: now.toISOString(),
    });
    return taken.changes === 1;
  }

  async releaseGcLock(holder: string | null): Promise<void> {
    if (holder === null) this.l.breakLock.run(GC_LOCK);
    else this.l.releaseLock.run(GC_LOCK, holder);
  }

  async getGcPosition(): Promise<string | null> {
    return this.l.gcPosition.get()?.value ?? null;
  }

  async saveGcPosition(holder: string, position: string | null): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.l.lockHolder.get(GC_LOCK)?.holder !== holder) return false;
        if (position === null) this.l.clearGcPosition.run();
        else this.l.saveGcPosition.run(position);
        return true;
      })
      .immediate();
  }

  async forgetBlobs(sha256s: readonly Sha256[], audit: (sha256: Sha256) => AuditEvent): Promise<void> {
    this.db
      .transaction(() => {
        for (const sha of sha256s) if (this.l.forgetBlob.run(sha).changes === 1) this.writeAudit(audit(sha));
      })
      .immediate();
  }
}

interface SummaryRow {
  namespace: string;
  package: string;
  version: string;
  state: 'live' | 'deleting';
  created_at: string;
  tombstoned_at: string | null;
  shas: string | null;
}

const toSummary = (row: unknown): VersionSummary => {
  const r = row as SummaryRow;
  return {
    namespace: r.namespace,
    package: r.package,
    version: r.version,
    state: r.state,
    createdAt: r.created_at,
    ...(r.tombstoned_at ? { tombstonedAt: r.tombstoned_at } : {}),
    sha256s: r.shas ? r.shas.split(',') : [],
  };
};
