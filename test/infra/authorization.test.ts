import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { callerBindingsFrom, principalOf } from '../../functions/adapters/aws/lambdaPrincipal.ts';
import { ENV } from '../../functions/config/env.ts';
import {
  ArtifactStore,
  type ArtifactStoreProps,
  type IamRoleGrant,
} from '../../infra/constructs/artifactStore.ts';
import { GitHubCiRole } from '../../infra/constructs/ciRole.ts';
import { functionEnvironment, resourcesOf, synthArca } from './support.ts';

const OPS = 'arn:aws:iam::111111111111:role/ops';
const BREAK_GLASS = 'arn:aws:iam::111111111111:user/break-glass';
/** What CloudFormation's GetAtt gives for the CI role, and a session of it as API Gateway reports it. */
const CI_ROLE_ARN = 'arn:aws:iam::111111111111:role/Arca-StoreGitHubCiRole-ABC123';
const CI_SESSION = 'arn:aws:sts::111111111111:assumed-role/Arca-StoreGitHubCiRole-ABC123/GitHubActions';

/** The `api` function's variables as the deployed function would see them, the CI role's ARN resolved. */
function apiVariables(template: Template): Record<string, string> {
  const variables = functionEnvironment(template, /^Arca API/);
  const [ciRoleId] = resourcesOf(template, 'AWS::IAM::Role').find(([id]) => /GitHubCiRole/.test(id)) ?? [];
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as { 'Fn::Join'?: [string, unknown[]]; 'Fn::GetAtt'?: [string, string] };
    if (v['Fn::Join']) return v['Fn::Join'][1].map(resolve).join(v['Fn::Join'][0]);
    const [resource, attribute] = v['Fn::GetAtt'] ?? [];
    if (resource !== undefined && resource === ciRoleId && attribute === 'Arn') return CI_ROLE_ARN;
    return `<unresolved ${JSON.stringify(value)}>`;
  };
  return Object.fromEntries(
    [ENV.adminPrincipals, ENV.iamRoles, ENV.jwtRoles]
      .filter((name) => variables[name] !== undefined)
      .map((name) => [name, resolve(variables[name])]),
  );
}

function storeTemplate(props: ArtifactStoreProps): Template {
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Embedded', { env: { account: '111111111111', region: 'us-east-1' } });
  new ArtifactStore(stack, 'Store', props);
  return Template.fromStack(stack);
}

describe('store-wide administrators', () => {
  it('reach the api function from the `adminPrincipals` context key, comma-separated or a JSON list', () => {
    const listed = synthArca({ adminPrincipals: `${OPS}, ${BREAK_GLASS}` });
    const json = synthArca({ adminPrincipals: JSON.stringify([OPS, BREAK_GLASS]) });

    for (const arca of [listed, json])
      expect(apiVariables(arca.template)[ENV.adminPrincipals]).toBe(`${OPS},${BREAK_GLASS}`);
    expect(functionEnvironment(listed.template, /scan/i)[ENV.adminPrincipals]).toBeUndefined();
  });

  it('reach the api function from the `adminPrincipals` prop of ArtifactStore', () => {
    const template = storeTemplate({ adminPrincipals: [OPS] });

    expect(apiVariables(template)).toEqual({ [ENV.adminPrincipals]: OPS });
  });

  it('are nobody by default: no variable, so every IAM caller holds no role', () => {
    const variables = apiVariables(synthArca().template);

    expect(variables).toEqual({});
    expect(principalOf({ iam: { userArn: CI_SESSION } }, callerBindingsFrom(variables))).toMatchObject({
      admin: false,
      roles: {},
    });
  });

  it('fail the synth when one is not an IAM role or user ARN', () => {
    expect(() => synthArca({ adminPrincipals: '*' })).toThrow(/adminPrincipals: '\*' is not an IAM/);
    expect(() => storeTemplate({ adminPrincipals: ['111111111111'] })).toThrow(/is not an IAM/);
  });
});

describe('the GitHub CI role', () => {
  it('holds write and promote in the `githubNamespaces` and is not an admin', () => {
    const arca = synthArca({ githubNamespaces: 'payments,web', adminPrincipals: OPS });
    const bindings = callerBindingsFrom(apiVariables(arca.template));

    const ci = principalOf({ iam: { userArn: CI_SESSION } }, bindings);

    expect(ci).toEqual({
      id: CI_SESSION,
      kind: 'iam',
      admin: false,
      roles: { payments: ['write', 'promote'], web: ['write', 'promote'] },
    });
  });

  it('holds no role at all without `githubNamespaces`', () => {
    const arca = synthArca();

    expect(
      principalOf({ iam: { userArn: CI_SESSION } }, callerBindingsFrom(apiVariables(arca.template))),
    ).toEqual({ id: CI_SESSION, kind: 'iam', admin: false, roles: {} });
  });

  it('keeps the operator’s own `iamRoles` next to its binding', () => {
    const template = storeTemplate({
      githubRepository: 'acme/widgets',
      githubNamespaces: ['payments'],
      iamRoles: { '*': { roles: { payments: ['read'] } } },
    });
    const bindings = callerBindingsFrom(apiVariables(template));

    expect(principalOf({ iam: { userArn: CI_SESSION } }, bindings)?.roles).toEqual({
      payments: ['write', 'promote'],
    });
    expect(principalOf({ iam: { userArn: `${OPS.replace(':iam:', ':sts:')}/x` } }, bindings)?.roles).toEqual({
      payments: ['read'],
    });
  });

  it('refuses `*`, a bad namespace, the admin role, or namespaces without a repository', () => {
    expect(() => synthArca({ githubNamespaces: '*' })).toThrow(/'\*' is not allowed/);
    expect(() => synthArca({ githubNamespaces: 'Payments' })).toThrow(/not a namespace name/);
    expect(() => storeTemplate({ githubNamespaces: ['payments'] })).toThrow(/needs githubRepository/);
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Ci');
    const api = new ArtifactStore(stack, 'Store').api;
    expect(
      () =>
        new GitHubCiRole(stack, 'Ci', {
          api,
          repository: 'acme/widgets',
          namespaces: ['payments'],
          roles: ['admin' as 'write'],
        }),
    ).toThrow(/may not hold the 'admin' role/);
  });
});

describe('iamRoles', () => {
  it('fail the synth when `*` would grant admin, or an entry is malformed', () => {
    expect(() => storeTemplate({ iamRoles: { '*': { roles: { '*': ['admin'] } } } })).toThrow(
      /may not grant the admin role/,
    );
    expect(() => storeTemplate({ iamRoles: { [OPS]: { admin: true } as unknown as IamRoleGrant } })).toThrow(
      /ARCA_ADMIN_PRINCIPALS/,
    );
  });
});
