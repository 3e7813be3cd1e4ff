import { Aws, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';

export interface SigningKeysProps {
  /** The only role allowed to `kms:Sign`: the scan function's. */
  readonly signer: iam.IRole;
  /**
   * How many keys the store has had: raising it by one rotates (the newest signs, the others stay
   * listed as retired so old signatures verify). Never lower it.
   * @default 1
   */
  readonly generations?: number;
}

/** Key administration, spelled out so the key policy never holds `kms:*` (and never `kms:Sign`). */
const ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/**
 * The store's provenance signing keys: asymmetric KMS keys (ECC_NIST_P256, SIGN_VERIFY), retained on
 * stack deletion (old signatures must stay verifiable), with a key policy under which only the scan
 * role may sign and the account may read public keys and administer. Asymmetric keys cannot rotate
 * automatically: rotation is `generations + 1` (docs/deploy.md).
 */
export class SigningKeys extends Construct {
  /** Oldest first; the last one signs. */
  public readonly keys: kms.CfnKey[];

  constructor(scope: Construct, id: string, props: SigningKeysProps) {
    super(scope, id);
    const generations = props.generations ?? 1;
    if (!Number.isInteger(generations) || generations < 1)
      throw new Error(`signing key generations must be a positive integer, got ${generations}`);
    const account = new iam.AccountRootPrincipal();
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AccountAdministersAndReadsPublicKeys',
          principals: [account],
          actions: ADMIN_ACTIONS,
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'OnlyTheScanRoleSigns',
          principals: [props.signer],
          actions: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'],
          resources: ['*'],
        }),
      ],
    });
    this.keys = Array.from({ length: generations }, (_, n) => {
      const key = new kms.CfnKey(this, n === 0 ? 'Key' : `Key${n + 1}`, {
        description: `Arca store provenance signing key, generation ${n + 1} (${Aws.STACK_NAME})`,
        keySpec: 'ECC_NIST_P256',
        keyUsage: 'SIGN_VERIFY',
        enableKeyRotation: false,
        keyPolicy: policy,
        tags: [{ key: 'arca', value: 'signing' }],
      });
      key.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return key;
    });
  }

  /** The key ARNs, oldest first, as `ARCA_SIGNING_KEYS` lists them. */
  get keyArns(): string[] {
    return this.keys.map((k) => k.attrArn);
  }

  /** Sets `ARCA_SIGNING_KEYS` on `fn` (signing itself is granted by the key policy alone). */
  wireSigner(fn: lambda.Function): void {
    fn.addEnvironment(ENV.signingKeys, this.joined());
  }

  /** Sets `ARCA_SIGNING_KEYS` on `fn` and lets it read the public keys (`GET /v1/keys`). */
  grantReadPublicKeys(fn: lambda.Function): void {
    fn.addEnvironment(ENV.signingKeys, this.joined());
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:GetPublicKey', 'kms:DescribeKey'],
        resources: this.keyArns,
      }),
    );
  }

  private joined(): string {
    return Fn.join(',', this.keyArns);
  }
}
