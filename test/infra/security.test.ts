import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourcesOf, type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  // KMS exercises the most grants (key policies, the replica key alias condition).
  arca = synthArca({ encryption: 'KMS' });
});

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown };

/** Every statement of every identity policy: AWS::IAM::Policy resources and roles' inline policies. */
function identityStatements(): { where: string; statement: Statement }[] {
  const out: { where: string; statement: Statement }[] = [];
  for (const template of [arca.template, arca.replicaTemplate]) {
    for (const [id, policy] of resourcesOf(template, 'AWS::IAM::Policy'))
      for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        out.push({ where: id, statement });
    for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role'))
      for (const inline of (role.Properties.Policies ?? []) as {
        PolicyDocument: { Statement: Statement[] };
      }[])
        for (const statement of inline.PolicyDocument.Statement) out.push({ where: id, statement });
  }
  return out;
}

describe('least privilege', () => {
  it('grants no `*` or `service:*` action in any IAM policy', () => {
    const statements = identityStatements();
    expect(statements.length).toBeGreaterThan(10);
    const wildcards = statements.flatMap(({ where, statement }) =>
      [statement.Action]
        .flat()
        .filter((action) => action === '*' || action.endsWith(':*'))
        .map((action) => `${where}: ${action}`),
    );
    expect(wildcards).toEqual([]);
  });

  it('grants `Resource: *` only for X-Ray, which has no resource-level permissions', () => {
    const starActions = identityStatements()
      .filter(({ statement }) => statement.Resource === '*')
      .flatMap(({ where, statement }) =>
        [statement.Action].flat().map((action) => `${where.replace(/[0-9A-F]{8}$/, '')}: ${action}`),
      );
    // CDK's bucket-notification custom resource configures notifications through the S3 API.
    const allowed = /^(xray:Put(TraceSegments|TelemetryRecords)|s3:PutBucketNotification)$/;
    for (const entry of starActions) expect(entry.split(': ')[1]).toMatch(allowed);
  });

  it('gives scan no way to write staging/ and api no way to write blobs/', () => {
    const of = (role: RegExp) =>
      identityStatements()
        .filter(({ where }) => role.test(where))
        .map(({ statement }) => statement);
    const writesTo = (statements: Statement[], prefix: string) =>
      statements.some(
        (s) => JSON.stringify(s.Resource).includes(prefix) && [s.Action].flat().includes('s3:PutObject'),
      );
    expect(writesTo(of(/ScanFunctionServiceRole/), '/staging/')).toBe(false);
    expect(writesTo(of(/ScanFunctionServiceRole/), '/blobs/sha256/')).toBe(true);
    expect(writesTo(of(/ApiFunctionServiceRole/), '/blobs/sha256/')).toBe(false);
    expect(writesTo(of(/ApiFunctionServiceRole/), '/staging/')).toBe(true);
  });
});

describe('cdk-nag AwsSolutionsChecks', () => {
  it('passes on both stacks (synth throws on any unacknowledged finding)', () => {
    expect(() => arca.app.synth()).not.toThrow();
  });

  it('gives every acknowledged rule a reason', () => {
    const acknowledgements = collectAcknowledgements(arca.app);
    expect(acknowledgements.length).toBeGreaterThan(5);
    for (const { id, reason } of acknowledgements) expect(reason.length, id).toBeGreaterThan(20);
  });

  it('fails synth on a finding nobody acknowledged', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    new s3.Bucket(new Stack(app, 'Careless'), 'Open');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});

function collectAcknowledgements(root: IConstruct): { id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({ id, reason })),
  );
}
