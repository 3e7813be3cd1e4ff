import type { AttestedSbom, VulnerabilityReport } from '../../core/model.ts';
import type { AttestationRecord, AuditEvent, TokenRecord, VersionRef } from '../../ports.ts';
import { expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { attestationPrefix, auditItem, type Item, keys, packageKey, workLists } from './dynamoDbItems.ts';
import type { DynamoTable } from './dynamoDbTable.ts';

/** Characters of an attestation record per item: well under DynamoDB's 400 KB item limit. */
const ATTESTATION_CHUNK = 300_000;

/** More tokens than this are not listed: a store has tens or hundreds. */
const MAX_LISTED_TOKENS = 10_000;

const tokenOf = (item: Item): TokenRecord => ({
  id: item.id as string,
  name: item.name as string,
  secretHash: item.secretHash as string,
  roles: item.roles as TokenRecord['roles'],
  createdAt: item.createdAt as string,
  createdBy: item.createdBy as string,
  expiresAt: item.expiresAt as string,
  ...(item.revokedAt === undefined ? {} : { revokedAt: item.revokedAt as string }),
  ...(item.lastUsedAt === undefined ? {} : { lastUsedAt: item.lastUsedAt as string }),
});

/**
 * Arca tokens: one item each under `TOKEN#<id>` (read with a consistent GetItem on every request),
 * listed on gsi2 `TOKENS` by creation time.
 */
export class DynamoDbAccess {
  constructor(private readonly table: DynamoTable) {}

  async putToken(token: TokenRecord, audit: AuditEvent): Promise<void> {
    const item = {
      ...keys.token(token.id),
      kind: 'token',
      ...token,
      gsi2pk: workLists.tokens,
      gsi2sk: `${token.createdAt}#${token.id}`,
    };
    const failed = await this.table.transact([
      {
        Put: {
          TableName: this.table.name,
          Item: toAttributes(item),
          ...expression({ condition: 'attribute_not_exists(#pk)' }),
        },
      },
      { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
    ]);
    if (failed) throw new Error(`token ${token.id} already exists`);
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const item = await this.table.get(keys.token(id));
    return item ? tokenOf(item) : null;
  }

  /** gsi2 holds only the tokens' keys (a token changes on every use): each is read from the table. */
  async listTokens(): Promise<TokenRecord[]> {
    const listed = await this.table.workList(workLists.tokens, '~', MAX_LISTED_TOKENS);
    return (await this.table.getListed(listed)).map(tokenOf);
  }

  async revokeToken(id: string, at: string, audit: AuditEvent): Promise<boolean> {
    const failed = await this.table.transact([
      {
        Update: {
          TableName: this.table.name,
          Key: toAttributes(keys.token(id)),
          ...updateExpression({
            update: 'SET #revokedAt = :at',
            condition: 'attribute_exists(#pk) AND attribute_not_exists(#revokedAt)',
            values: { ':at': at },
          }),
        },
      },
      { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
    ]);
    return failed === null;
  }

  async touchToken(id: string, at: string): Promise<void> {
    await this.table.update({
      TableName: this.table.name,
      Key: toAttributes(keys.token(id)),
      ...updateExpression({
        update: 'SET #lastUsedAt = :at',
        condition: 'attribute_exists(#pk)',
        values: { ':at': at },
      }),
    });
  }

  /**
   * In the version's partition under `ATTEST#<version>#<id>`. DynamoDB items hold 400 KB and an
   * envelope may be 1 MiB, so the record is split into chunks: the first item (`…#<id>`, conditioned
   * on being new) and `…#<id>#<n>` for the rest, all in the one transaction with the audit event.
   */
  async putAttestation(ref: VersionRef, attestation: AttestationRecord, audit: AuditEvent): Promise<boolean> {
    // An attested SBOM's report is its own item (`…#<id>#sbom`), so a re-match updates it in place.
    const { sbom, ...record } = attestation;
    const json = JSON.stringify(record);
    const chunks: string[] = [];
    for (let at = 0; at < json.length; at += ATTESTATION_CHUNK)
      chunks.push(json.slice(at, at + ATTESTATION_CHUNK));
    const first = keys.attestation(ref, attestation.id);
    const failed = await this.table.transact([
      ...chunks.map((data, part) => ({
        Put: {
          TableName: this.table.name,
          Item: toAttributes({
            ...(part === 0 ? first : { ...first, sk: `${first.sk}#${part}` }),
            kind: 'attestation',
            id: attestation.id,
            part,
            parts: chunks.length,
            createdAt: attestation.createdAt,
            data,
          }),
          ...(part === 0 ? expression({ condition: 'attribute_not_exists(#pk)' }) : {}),
        },
      })),
      ...(sbom
        ? [
            {
              Put: {
                TableName: this.table.name,
                Item: toAttributes({
                  ...first,
                  sk: `${first.sk}#sbom`,
                  kind: 'attestationSbom',
                  id: attestation.id,
                  namespace: ref.namespace,
                  package: ref.package,
                  version: ref.version,
                  sbom,
                }),
              },
            },
          ]
        : []),
      { Put: { TableName: this.table.name, Item: toAttributes(auditItem(audit)) } },
    ]);
    return failed === null;
  }

  async listAttestedSboms(): Promise<{ ref: VersionRef; id: string; sbom: AttestedSbom }[]> {
    const items = await this.table.scanAll({
      FilterExpression: '#kind = :kind',
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: toAttributes({ ':kind': 'attestationSbom' }),
      ConsistentRead: true,
    });
    return items.map((item) => ({
      ref: {
        namespace: item.namespace as string,
        package: item.package as string,
        version: item.version as string,
      },
      id: item.id as string,
      sbom: item.sbom as AttestedSbom,
    }));
  }

  async setAttestationVulnerabilities(
    ref: VersionRef,
    id: string,
    vulnerabilities: VulnerabilityReport,
  ): Promise<boolean> {
    const first = keys.attestation(ref, id);
    return this.table.update({
      TableName: this.table.name,
      Key: toAttributes({ ...first, sk: `${first.sk}#sbom` }),
      ...updateExpression({
        update: 'SET #sbom.#vulnerabilities = :vulnerabilities',
        condition: 'attribute_exists(#sbom)',
        values: { ':vulnerabilities': vulnerabilities },
      }),
    });
  }

  async listAttestations(ref: VersionRef): Promise<AttestationRecord[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.table.query({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: toAttributes({
          ':pk': packageKey(ref.namespace, ref.package),
          ':prefix': attestationPrefix(ref.version),
        }),
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: toAttributes(start) } : {}),
      });
      items.push(...page.items);
      start = page.lastKey;
    } while (start);
    const byId = new Map<string, Item[]>();
    const sboms = new Map<string, AttestedSbom>();
    for (const item of items) {
      if (item.kind === 'attestationSbom') sboms.set(item.id as string, item.sbom as AttestedSbom);
      else byId.set(item.id as string, [...(byId.get(item.id as string) ?? []), item]);
    }
    return [...byId.values()]
      .filter((chunks) => chunks.length === chunks[0]!.parts) // a record is whole or not listed
      .map((chunks) => {
        const json = chunks
          .sort((a, b) => (a.part as number) - (b.part as number))
          .map((c) => c.data as string)
          .join('');
        const record = JSON.parse(json) as AttestationRecord;
        const sbom = sboms.get(record.id);
        return sbom ? { ...record, sbom } : record;
      })
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }
}
