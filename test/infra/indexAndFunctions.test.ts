import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config/env.ts';
import { INDEX_NAMES, QUEUE_SETTINGS, TABLE_SCHEMA } from '../../functions/config/resources.ts';
import { functionEnvironment, resourcesOf, type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  arca = synthArca({ apiReservedConcurrency: 20, scanReservedConcurrency: 5 });
});

const functionEnv = (description: RegExp) => functionEnvironment(arca.template, description);

describe('index table', () => {
  it('is an on-demand TableV2 with PITR, deletion protection, TTL and the keys of TABLE_SCHEMA', () => {
    arca.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
      Replicas: [
        Match.objectLike({
          Region: 'us-east-1',
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ],
    });
  });

  it('has every GSI of TABLE_SCHEMA under its minimal name, each projecting only its listed attributes', () => {
    arca.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: TABLE_SCHEMA.globalIndexes.map((index) =>
        Match.objectLike({
          IndexName: INDEX_NAMES.minimal[index.name],
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projected] },
        }),
      ),
    });
  });

  it('never projects a whole item: no file list, metadata, token secret or policy is copied to a GSI', () => {
    const projected = TABLE_SCHEMA.globalIndexes.flatMap((index) => index.projected as readonly string[]);
    for (const large of ['files', 'metadata', 'secretHash', 'policy', 'leases', 'scan'])
      expect(projected).not.toContain(large);
  });

  it('keeps the ALL-projected gsi1 and gsi2 of a store created before them, and its functions query those', () => {
    const earlier = synthArca({ indexLayout: 'all' });
    earlier.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: TABLE_SCHEMA.globalIndexes.map((index) =>
        Match.objectLike({ IndexName: INDEX_NAMES.all[index.name], Projection: { ProjectionType: 'ALL' } }),
      ),
    });
    for (const description of [/^Arca API/, /^Arca scan/, /^Arca GC/])
      expect(functionEnvironment(earlier.template, description)[ENV.indexLayout]).toBe('all');
  });

  it('moves a store from ALL to the minimal GSIs one GSI per deploy, querying the new ones only once both exist', () => {
    const steps = ['all', 'migrate-1', 'migrate-2', 'migrate-3', 'migrate-4', 'minimal'].map(
      (indexLayout) => {
        const { template } = synthArca({ indexLayout });
        const [table] = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
        const gsis = (table!.Properties.GlobalSecondaryIndexes as { IndexName: string }[]).map(
          (g) => g.IndexName,
        );
        return { gsis: new Set(gsis), reads: functionEnvironment(template, /^Arca API/)[ENV.indexLayout] };
      },
    );
    for (const [i, step] of steps.entries()) {
      const queried = Object.values(INDEX_NAMES[step.reads as 'all' | 'minimal']);
      expect(queried.every((name) => step.gsis.has(name))).toBe(true);
      const previous = steps[i - 1];
      if (!previous) continue;
      // The functions switch layout in a deploy that leaves the GSIs as they are, and vice versa.
      const created = [...step.gsis].filter((name) => !previous.gsis.has(name));
      const deleted = [...previous.gsis].filter((name) => !step.gsis.has(name));
      expect(created.length + deleted.length + (step.reads === previous.reads ? 0 : 1)).toBe(1);
    }
    expect(steps.map((s) => s.reads)).toEqual(['all', 'all', 'all', 'minimal', 'minimal', 'minimal']);
  });

  it('refuses an indexLayout it does not know', () => {
    expect(() => synthArca({ indexLayout: 'keys-only' })).toThrow(/indexLayout/);
  });

  it('is kept when the stack is deleted', () => {
    arca.template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
  });
});

describe('functions', () => {
  it('run Node 22 on arm64 with X-Ray, JSON logs and reserved concurrency from props', () => {
    for (const reserved of [20, 5])
      arca.template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
        ReservedConcurrentExecutions: reserved,
      });
  });

  it('configure Powertools and the AWS backend, with source maps on', () => {
    for (const description of [/^Arca API/, /^Arca scan/, /^Arca GC/])
      expect(functionEnv(description)).toMatchObject({
        [ENV.backend]: 'aws',
        POWERTOOLS_SERVICE_NAME: 'arca',
        POWERTOOLS_METRICS_NAMESPACE: 'Arca',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      });
  });

  it('get the bucket and table through their grants, and the cursor secret by ARN only where they page', () => {
    for (const description of [/^Arca API/, /^Arca scan/, /^Arca GC/]) {
      const env = functionEnv(description);
      expect(env[ENV.bucket]).toEqual({ Ref: expect.stringMatching(/StoreStorageBucket/) });
      expect(env[ENV.table]).toEqual({ Ref: expect.stringMatching(/StoreIndexTable/) });
      expect(env[ENV.cursorSecret]).toBeUndefined();
    }
    for (const description of [/^Arca API/, /^Arca GC/])
      expect(functionEnv(description)[ENV.cursorSecretArn]).toEqual({
        Ref: expect.stringMatching(/StoreCursorSecret/),
      });
    // scan never pages: it gets neither the ARN nor a grant to read the secret.
    expect(functionEnv(/^Arca scan/)[ENV.cursorSecretArn]).toBeUndefined();
    const scanReads = resourcesOf(arca.template, 'AWS::IAM::Policy')
      .filter(([id]) => /ScanFunctionServiceRole/.test(id))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: { Resource: unknown }[] }).Statement)
      .filter((statement) => JSON.stringify(statement.Resource).includes('CursorSecret'));
    expect(scanReads).toEqual([]);
  });

  it('are api, scan and gc, each with its own handler', () => {
    const descriptions = resourcesOf(arca.template, 'AWS::Lambda::Function').map(([, r]) =>
      String(r.Properties.Description),
    );
    for (const name of [/^Arca API/, /^Arca scan/, /^Arca GC/])
      expect(descriptions.filter((d) => name.test(d))).toHaveLength(1);
  });
});

describe('scan pipeline', () => {
  it('reads the queue with ReportBatchItemFailures, one object at a time, at most 100 instances at once', () => {
    arca.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('StoreScanQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 100 },
    });
  });

  it('hides messages for ≥ 6× the scan timeout and dead-letters after maxReceiveCount', () => {
    const timeout = QUEUE_SETTINGS.scanFunctionTimeoutSeconds;
    arca.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Arca scan'),
      Timeout: timeout,
    });
    arca.template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: QUEUE_SETTINGS.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] },
        maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount,
      },
    });
    expect(QUEUE_SETTINGS.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * timeout);
    arca.template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: QUEUE_SETTINGS.dlqRetentionDays * 86400,
    });
  });
});
