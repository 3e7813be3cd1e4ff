import type Database from 'better-sqlite3';
import type { AttestedSbom, VulnerabilityReport } from '../../core/model.ts';
import type {
  AccessIndex,
  AttestationIndex,
  AttestationRecord,
  AuditEvent,
  TokenRecord,
  VersionRef,
} from '../../ports.ts';
import { SqliteLifecycleIndex } from './sqliteLifecycle.ts';

interface TokenRow {
  id: string;
  name: string;
  secret_hash: string;
  roles: string;
  created_at: string;
  created_by: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  name: r.name,
  secretHash: r.secret_hash,
  roles: JSON.parse(r.roles),
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
  ...(r.last_used_at === null ? {} : { lastUsedAt: r.last_used_at }),
});

/**
 * Arca tokens (looked up by id through a prepared statement on every request) and attestations of
 * versions, on SQLite.
 */
export abstract class SqliteAccessIndex
  extends SqliteLifecycleIndex
  implements AccessIndex, AttestationIndex
{
  private readonly t;
  private readonly a;

  constructor(db: Database.Database) {
    super(db);
    const p = (sql: string) => db.prepare(sql);
    this.t = {
      insert: p(`INSERT INTO tokens (id, name, secret_hash, roles, created_at, created_by, expires_at)
        VALUES (@id, @name, @secret_hash, @roles, @created_at, @created_by, @expires_at)`),
      get: p('SELECT * FROM tokens WHERE id = ?'),
      all: p('SELECT * FROM tokens ORDER BY created_at, id'),
      revoke: p('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touch: p('UPDATE tokens SET last_used_at = ? WHERE id = ?'),
    };
    this.a = {
      insert: p(`INSERT OR IGNORE INTO attestations (namespace, package, version, id, record)
        VALUES (@namespace, @package, @version, @id, @record)`),
      list: p(
        'SELECT record FROM attestations WHERE namespace = ? AND package = ? AND version = ? ORDER BY seq',
      ),
      withSbom: p(`SELECT namespace, package, version, id, json_extract(record, '$.sbom') AS sbom
        FROM attestations WHERE json_type(record, '$.sbom') = 'object' ORDER BY seq`),
      setVulnerabilities:
        p(`UPDATE attestations SET record = json_set(record, '$.sbom.vulnerabilities', json(?))
        WHERE namespace = ? AND package = ? AND version = ? AND id = ? AND json_type(record, '$.sbom') = 'object'`),
    };
  }

  async putAttestation(ref: VersionRef, attestation: AttestationRecord, audit: AuditEvent): Promise<boolean> {
    return this.db
      .transaction(() => {
        const inserted = this.a.insert.run({
          namespace: ref.namespace,
          package: ref.package,
          version: ref.version,
          id: attestation.id,
          record: JSON.stringify(attestation),
        });
        if (inserted.changes === 0) return false;
        this.writeAudit(audit);
        return true;
      })
      .immediate();
  }

  async listAttestations(ref: VersionRef): Promise<AttestationRecord[]> {
    const rows = this.a.list.all(ref.namespace, ref.package, ref.version) as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as AttestationRecord);
  }

  async listAttestedSboms(): Promise<{ ref: VersionRef; id: string; sbom: AttestedSbom }[]> {
    const rows = this.a.withSbom.all() as {
      namespace: string;
      package: string;
      version: string;
      id: string;
      sbom: string;
    }[];
    return rows.map((r) => ({
      ref: { namespace: r.namespace, package: r.package, version: r.version },
      id: r.id,
      sbom: JSON.parse(r.sbom) as AttestedSbom,
    }));
  }

  async setAttestationVulnerabilities(
    ref: VersionRef,
    id: string,
    vulnerabilities: VulnerabilityReport,
  ): Promise<boolean> {
    const where = [ref.namespace, ref.package, ref.version, id];
    return this.a.setVulnerabilities.run(JSON.stringify(vulnerabilities), ...where).changes > 0;
  }

  async putToken(token: TokenRecord, audit: AuditEvent): Promise<void> {
    this.db
      .transaction(() => {
        this.t.insert.run({
          id: token.id,
          name: token.name,
          secret_hash: token.secretHash,
          roles: JSON.stringify(token.roles),
          created_at: token.createdAt,
          created_by: token.createdBy,
          expires_at: token.expiresAt,
        });
        this.writeAudit(audit);
      })
      .immediate();
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const row = this.t.get.get(id) as TokenRow | undefined;
    return row ? toToken(row) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.t.all.all() as TokenRow[]).map(toToken);
  }

  async revokeToken(id: string, at: string, audit: AuditEvent): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.t.revoke.run(at, id).changes === 0) return false;
        this.writeAudit(audit);
        return true;
      })
      .immediate();
  }

  async touchToken(id: string, at: string): Promise<void> {
    this.t.touch.run(at, id);
  }
}
