import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';
import { TABLE_SCHEMA } from '../../functions/config/resources.ts';
import { acknowledgeResourceWildcards } from './nag.ts';

export interface IndexTableProps {
  /**
   * Bring your own table instead of creating one. It must have Arca's key schema, GSIs (projecting at
   * least the `projected` attributes, or ALL) and TTL attribute (`TABLE_SCHEMA` in
   * functions/config/resources.ts); PITR and deletion protection are yours.
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
   * Keep GSIs that project every attribute (`ALL`), as tables created before the minimal projections
   * have: DynamoDB cannot change an existing GSI's projection, so a store deployed earlier sets this
   * (docs/deploy.md § 8). Arca reads either: what a GSI does not project it reads from the table.
   * @default false - each GSI projects the attributes of `TABLE_SCHEMA` (INCLUDE)
   */
  readonly fullIndexProjection?: boolean;
}

/** The index: one on-demand table with the keys, GSIs and TTL of `TABLE_SCHEMA`, with PITR. */
export class IndexTable extends Construct {
  public readonly table: dynamodb.ITableV2;

  constructor(scope: Construct, id: string, props: IndexTableProps = {}) {
    super(scope, id);
    if (props.table !== undefined) {
      if (props.replicaRegion !== undefined)
        throw new Error('replicateIndex needs a table Arca creates; add the replica to your own table');
      this.table = props.table;
      return;
    }
    const key = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: key(TABLE_SCHEMA.partitionKey),
      sortKey: key(TABLE_SCHEMA.sortKey),
      // On demand: an idle store costs nothing but its stored bytes.
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      globalSecondaryIndexes: TABLE_SCHEMA.globalIndexes.map((index) => ({
        indexName: index.name,
        partitionKey: key(index.partitionKey),
        sortKey: key(index.sortKey),
        ...(props.fullIndexProjection
          ? { projectionType: dynamodb.ProjectionType.ALL }
          : { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...index.projected] }),
      })),
      replicas: props.replicaRegion ? [{ region: props.replicaRegion }] : undefined,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** Item reads and writes on the table and its indexes (no table admin). Sets `ARCA_TABLE`. */
  public grantIndexReadWrite(fn: lambda.Function): void {
    fn.addEnvironment(ENV.table, this.table.tableName);
    this.table.grantReadWriteData(fn);
    acknowledgeResourceWildcards(
      fn,
      [`${this.table.tableArn}/index/*`],
      'The GSIs of the index table (gsi1, gsi2 and any added later); item actions only.',
    );
  }
}
