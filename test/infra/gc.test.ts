import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { emfName } from '../../functions/adapters/aws/emfMetrics.ts';
import { ENV } from '../../functions/config/env.ts';
import { BUCKET_LAYOUT } from '../../functions/config/resources.ts';
import { createHandler } from '../../functions/handlers/gc.ts';
import { ArtifactStore } from '../../infra/constructs/artifactStore.ts';
import { GC_METRIC_NAMES, GC_METRICS_SERVICE } from '../../infra/constructs/garbageCollector.ts';
import { coreHarness } from '../support/coreHarness.ts';
import { functionEnvironment, resourcesOf, type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  arca = synthArca();
});

const GC = /^Arca GC/;
const gcFunctionId = () => {
  const found = resourcesOf(arca.template, 'AWS::Lambda::Function').find(([, r]) =>
    GC.test(String(r.Properties.Description)),
  );
  if (!found) throw new Error('no GC function');
  return found[0];
};

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** The statements of the GC function's role, keyed by action, with their resources as JSON. */
function gcGrants(template = arca.template): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  for (const [, policy] of resourcesOf(template, 'AWS::IAM::Policy')) {
    if (!JSON.stringify(policy.Properties.Roles).includes('GcFunctionServiceRole')) continue;
    for (const s of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      for (const action of [s.Action].flat())
        grants.set(action, [...(grants.get(action) ?? []), JSON.stringify(s.Resource)]);
  }
  return grants;
}

describe('gc function', () => {
  it('runs Node 22 on arm64 for up to 15 minutes, with no reserved concurrency (the LOCK#gc item keeps runs apart)', () => {
    arca.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Arca GC'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      MemorySize: 512,
      ReservedConcurrentExecutions: Match.absent(),
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
  });

  it('is not retried by Lambda: the next scheduled run is the retry', () => {
    arca.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: gcFunctionId() },
      MaximumRetryAttempts: 0,
    });
  });

  it('gets the bucket, table, cursor secret, blob grace and Powertools settings', () => {
    const env = functionEnvironment(arca.template, GC);
    expect(env).toMatchObject({
      [ENV.backend]: 'aws',
      [ENV.blobGraceHours]: '24',
      POWERTOOLS_METRICS_NAMESPACE: 'Arca',
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(env[ENV.bucket]).toEqual({ Ref: expect.stringMatching(/StoreStorageBucket/) });
    expect(env[ENV.table]).toEqual({ Ref: expect.stringMatching(/StoreIndexTable/) });
    expect(env[ENV.cursorSecret]).toBeUndefined();
    expect(env[ENV.cursorSecretArn]).toEqual({ Ref: expect.stringMatching(/StoreCursorSecret/) });
  });
});

describe('gc schedule', () => {
  it('invokes the function every hour by default', () => {
    arca.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [gcFunctionId(), 'Arn'] } })],
    });
  });

  it('is allowed to invoke the function, and only from the rule', () => {
    arca.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [gcFunctionId(), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('StoreGcSchedule'), 'Arn'] },
    });
  });
});

describe('gc permissions', () => {
  it('may delete staged objects and abort their multipart uploads, under staging/ only', () => {
    const grants = gcGrants();
    for (const action of ['s3:DeleteObject', 's3:AbortMultipartUpload'])
      expect(grants.get(action)?.some((r) => r.includes(`/${BUCKET_LAYOUT.stagingPrefix}*`))).toBe(true);
    expect(grants.get('s3:AbortMultipartUpload')).toHaveLength(1);
  });

  it('may delete blobs, under blobs/sha256/ only', () => {
    const deletes = gcGrants().get('s3:DeleteObject') ?? [];
    expect(deletes).toHaveLength(2);
    expect(deletes.some((r) => r.includes(`/${BUCKET_LAYOUT.blobPrefix}*`))).toBe(true);
  });

  it('never reads, writes or lists objects, nor deletes object versions', () => {
    const s3Actions = [...gcGrants().keys()].filter((action) => action.startsWith('s3:')).sort();
    expect(s3Actions).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject']);
  });

  it('reads and writes index items on the table and its GSIs', () => {
    const grants = gcGrants();
    for (const action of [
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:UpdateItem',
    ]) {
      const resources = grants.get(action) ?? [];
      expect(resources.join(), action).toMatch(/StoreIndexTable/);
      expect(resources.join(), action).toContain('/index/*');
    }
    expect(grants.has('dynamodb:DeleteTable')).toBe(false);
  });
});

describe('gc settings from context', () => {
  it('sets the interval, reserved concurrency and blob grace', () => {
    const { template } = synthArca({
      gcIntervalMinutes: '30',
      gcReservedConcurrency: '2',
      blobGraceHours: '48',
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Arca GC'),
      ReservedConcurrentExecutions: 2,
    });
    expect(functionEnvironment(template, GC)[ENV.blobGraceHours]).toBe('48');
  });

  it('refuses a blob grace that is not a whole number of hours', () => {
    const stack = new Stack(new App(), 'Bad', { env: { account: '111111111111', region: 'us-east-1' } });
    expect(() => new ArtifactStore(stack, 'Store', { blobGraceHours: 1.5 })).toThrow(/blobGraceHours/);
  });
});

describe('gc metrics the dashboard charts', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are the ones the handler publishes, under Arca with service=arca-gc', async () => {
    // Prepare: an empty store, and stdout captured (Powertools writes EMF there).
    const harness = coreHarness();
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const context = { awsRequestId: 'req-gc', functionName: 'gc', getRemainingTimeInMillis: () => 600_000 };
    // Act
    try {
      await createHandler(harness.deps)({}, context as unknown as Context);
    } finally {
      vi.restoreAllMocks();
      harness.close();
    }
    // Assess
    const emf = lines
      .flatMap((text) => text.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as EmfBlob);
    const directives = emf.flatMap((blob) => blob._aws.CloudWatchMetrics);
    expect(directives.map((d) => d.Namespace)).toEqual(directives.map(() => 'Arca'));
    expect(directives.flatMap((d) => d.Dimensions.flat())).toContain('service');
    expect(emf.map((blob) => blob.service)).toEqual(emf.map(() => GC_METRICS_SERVICE));
    const names = directives.flatMap((d) => d.Metrics.map((m) => m.Name));
    // The handler's own counts, and the GC SLIs core records through the metrics port (M8).
    const sli = [emfName('gcRuns'), emfName('gcDeletions')];
    expect([...new Set(names)].sort()).toEqual([...GC_METRIC_NAMES, ...sli].sort());
  });
});

interface EmfBlob {
  readonly service?: string;
  readonly _aws: {
    readonly CloudWatchMetrics: {
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: { Name: string }[];
    }[];
  };
}
