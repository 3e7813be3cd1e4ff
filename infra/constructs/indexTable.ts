import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';
import { INDEX_NAMES, type IndexLayout, TABLE_SCHEMA } from '../../functions/config/resources.ts';
import { acknowledgeResourceWildcards } from './nag.ts';

/**
 * The GSIs a table has and the ones the functions query. `minimal`: the INCLUDE projections of
 * `TABLE_SCHEMA` (`gsi1k`, `gsi2k`). `all`: a table created before them (`gsi1`, `gsi2`, projecting
 * ALL). `migrate-1` … `migrate-4` move an `all` table to `minimal` one deploy at a time, each creating
 * or deleting one GSI (all CloudFormation does in one update), the functions switching to the new
 * indexes only once both exist (docs/deploy.md § 8).
 */
export type IndexTableLayout = IndexLayout | 'migrate-1' | 'migrate-2' | 'migrate-3' | 'migrate-4';

const [old1, old2, new1, new2] = [
  INDEX_NAMES.all.gsi1,
  INDEX_NAMES.all.gsi2,
  INDEX_NAMES.minimal.gsi1,
  INDEX_NAMES.minimal.gsi2,
];
const LAYOUTS: Record<IndexTableLayout, { gsis: readonly string[]; reads: IndexLayout }> = {
  all: { gsis: [old1, old2], reads: 'all' },
  'migrate-1': { gsis: [old1, old2, new1], reads: 'all' },
  'migrate-2': { gsis: [old1, old2, new1, new2], reads: 'all' },
  'migrate-3': { gsis: [old1, old2, new1, new2], reads: 'minimal' },
  'migrate-4': { gsis: [old2, new1, new2], reads: 'minimal' },
  minimal: { gsis: [new1, new2], reads: 'minimal' },
};

/** Whether `value` names a layout (the app's `indexLayout` context key is checked with it). */
export const isIndexTableLayout = (value: string): value is IndexTableLayout => value in LAYOUTS;

/** Every GSI either layout defines, by physical name: the same keys, ALL or the minimal projection. */
function indexDefinitions(
  key: (name: string) => dynamodb.Attribute,
): Map<string, dynamodb.GlobalSecondaryIndexPropsV2> {
  const definitions = new Map<string, dynamodb.GlobalSecondaryIndexPropsV2>();
  for (const index of TABLE_SCHEMA.globalIndexes) {
    const keys = { partitionKey: key(index.partitionKey), sortKey: key(index.sortKey) };
    const all = INDEX_NAMES.all[index.name];
    const minimal = INDEX_NAMES.minimal[index.name];
    definitions.set(all, { indexName: all, ...keys, projectionType: dynamodb.ProjectionType.ALL });
    definitions.set(minimal, {
      indexName: minimal,
      ...keys,
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...index.projected],
    });
  }
  return definitions;
}

export interface IndexTableProps {
  /**
   * Bring your own table instead of creating one. It must have Arca's key schema, TTL attribute and
   * GSIs (`TABLE_SCHEMA` in functions/config/resources.ts): `gsi1k` and `gsi2k` projecting at least
   * the `projected` attributes, or `gsi1` and `gsi2` with `indexLayout: 'all'`. PITR and deletion
   * protection are yours.
   * @default - a new on-demand table
   */
  readonly table?: dynamodb.ITableV2;
  /**
   * A second region holding a global-table replica, for reads and writes during a region outage.
   * @default - no replica
   */
  readonly replicaRegion?: string;
  /**
   * Refuse `DeleteTable` until switched off: the index is the only record of what was published.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The GSIs (`IndexTableLayout`): `all` for a table created before the minimal projections, whose
   * GSIs project every attribute (DynamoDB cannot change that in place), and the `migrate-*` steps to
   * move it to `minimal` (docs/deploy.md § 8). With `table`, only which GSIs the functions query.
   * @default 'minimal'
   */
  readonly indexLayout?: IndexTableLayout;
}

/** The index: one on-demand table with the keys, GSIs and TTL of `TABLE_SCHEMA`, with PITR. */
export class IndexTable extends Construct {
  public readonly table: dynamodb.ITableV2;
  private readonly reads: IndexLayout;

  constructor(scope: Construct, id: string, props: IndexTableProps = {}) {
    super(scope, id);
    const layout = LAYOUTS[props.indexLayout ?? 'minimal'];
    this.reads = layout.reads;
    if (props.table !== undefined) {
      if (props.replicaRegion !== undefined)
        throw new Error('replicateIndex needs a table Arca creates; add the replica to your own table');
      this.table = props.table;
      return;
    }
    const key = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });
    const definitions = indexDefinitions(key);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: key(TABLE_SCHEMA.partitionKey),
      sortKey: key(TABLE_SCHEMA.sortKey),
      // On demand: an idle store costs nothing but its stored bytes.
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      globalSecondaryIndexes: layout.gsis.map((name) => definitions.get(name)!),
      replicas: props.replicaRegion ? [{ region: props.replicaRegion }] : undefined,
      // The events relay reads audit records from it; a global table's replication needs both images.
      dynamoStream: props.replicaRegion
        ? dynamodb.StreamViewType.NEW_AND_OLD_IMAGES
        : dynamodb.StreamViewType.NEW_IMAGE,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** Item reads and writes on the table and its indexes (no table admin). Sets `ARCA_TABLE` and `ARCA_INDEX_LAYOUT`. */
  public grantIndexReadWrite(fn: lambda.Function): void {
    fn.addEnvironment(ENV.table, this.table.tableName);
    fn.addEnvironment(ENV.indexLayout, this.reads);
    this.table.grantReadWriteData(fn);
    acknowledgeResourceWildcards(
      fn,
      [`${this.table.tableArn}/index/*`],
      'The GSIs of the index table (gsi1k, gsi2k, or gsi1, gsi2 on a table created before them); item actions only.',
    );
  }
}
