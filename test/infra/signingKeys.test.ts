import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthArca } from './support.ts';

describe('SigningKeys', () => {
  const { template } = synthArca();
  const keys = template.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'SIGN_VERIFY' } });
  const [keyId, key] = Object.entries(keys)[0]!;
  const statements = key.Properties.KeyPolicy.Statement as { Action: string[]; Principal: unknown }[];

  it('creates one retained ECC_NIST_P256 signing key without automatic rotation', () => {
    expect(Object.keys(keys)).toHaveLength(1);
    expect(key).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { KeySpec: 'ECC_NIST_P256', EnableKeyRotation: false },
    });
  });

  it('lets only the scan role sign, and never grants kms:*', () => {
    const signers = statements.filter((s) => s.Action.includes('kms:Sign'));
    expect(signers).toHaveLength(1);
    expect(JSON.stringify(signers[0]!.Principal)).toMatch(/ScanFunctionServiceRole/);
    const everyAction = Object.values(template.toJSON().Resources as Record<string, any>).flatMap(
      (r) => JSON.stringify(r.Properties ?? {}).match(/"kms:\*"/g) ?? [],
    );
    expect(everyAction).toEqual([]);
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy')))
      expect(JSON.stringify(policy)).not.toMatch(/kms:Sign/);
  });

  it('passes the key to the scan and API functions, and lets the API read public keys and queue signing', () => {
    const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
    for (const description of [Match.stringLikeRegexp('^Arca scan'), Match.stringLikeRegexp('^Arca API')])
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: description,
        Environment: { Variables: Match.objectLike({ ARCA_SIGNING_KEYS: keyArn }) },
      });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Arca API'),
      Environment: { Variables: Match.objectLike({ ARCA_SCAN_QUEUE_URL: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['kms:DescribeKey', 'kms:GetPublicKey'], Resource: keyArn }),
        ]),
      },
    });
  });

  it('rotates by adding a generation: the newest key is listed last', () => {
    const rotated = synthArca({ signingKeyGenerations: 2 }).template;
    expect(
      Object.keys(rotated.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'SIGN_VERIFY' } })),
    ).toHaveLength(2);
  });
});
