import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** AWSLambdaBasicExecutionRole, as cdk-nag names it in its IAM4 findings. */
export const LAMBDA_BASIC_EXECUTION_FINDING =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/**
 * Acknowledges cdk-nag's IAM5 finding for each wildcard *resource* (never an action) of `scope`'s
 * policies, one finding at a time, so a new wildcard still fails synth. `resources` are the same
 * values (tokens included) the policy statements were given.
 */
export function acknowledgeResourceWildcards(
  scope: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  const stack = Stack.of(scope);
  const acknowledge = () => {
    for (const resource of resources)
      Validations.of(scope).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flatten(stack.resolve(resource))}]`,
        reason,
      });
  };
  acknowledge();
  // A cross-region reference resolves to its final form (Fn::GetStackOutput) only once the app is
  // prepared: acknowledge again then, before the cdk-nag plugin reads the tree.
  scope.node.addValidation({
    validate: () => {
      acknowledge();
      return [];
    },
  });
}

/** cdk-nag's spelling of a CloudFormation value: `<Logical.Attr>` for GetAtt, `<Name>` for Ref, joins inlined. */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const value = node as Record<string, unknown>;
    if ('Fn::Join' in value) {
      const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if ('Fn::GetAtt' in value) {
      const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ('Ref' in value) return `<${flatten(value.Ref)}>`;
  }
  return JSON.stringify(node);
}

/**
 * aws-cdk-lib renders a lifecycle rule's `ObjectSizeGreaterThan` as a number where the CloudFormation
 * schema says string; CloudFormation coerces it, so the built-in template validation's warning is noise.
 */
export function acknowledgeLifecycleSizeCoercion(bucket: IConstruct): void {
  Validations.of(bucket).acknowledge({
    id: 'CloudFormation-Validate::W9003',
    reason: 'ObjectSizeGreaterThan is rendered as a number by aws-cdk-lib and coerced by CloudFormation.',
  });
}
