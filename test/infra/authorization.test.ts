import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config/env.ts';
import { ArtifactStore, type ArtifactStoreProps } from '../../infra/constructs/artifactStore.ts';
import { GitHubCiRole } from '../../infra/constructs/ciRole.ts';
import { functionEnvironment, synthArca } from './support.ts';

const OPS = 'arn:aws:iam::111111111111:role/ops';
const BREAK_GLASS = 'arn:aws:iam::111111111111:user/break-glass';
const GITHUB = 'https://token.actions.githubusercontent.com';
const GITLAB = 'https://gitlab.example.com';

/** The access variables of the `api` function (and only those), as the template sets them. */
function accessVariables(template: Template): Record<string, unknown> {
  const variables = functionEnvironment(template, /^Arca API/);
  return Object.fromEntries(
    [ENV.adminPrincipals, ENV.oidcIssuers, ENV.iamRoles, ENV.jwtRoles]
      .filter((name) => variables[name] !== undefined)
      .map((name) => [name, variables[name]]),
  );
}

function storeTemplate(props: ArtifactStoreProps): Template {
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Embedded', { env: { account: '111111111111', region: 'us-east-1' } });
  new ArtifactStore(stack, 'Store', props);
  return Template.fromStack(stack);
}

/** The `sub` claims the GitHub CI role's trust policy accepts. */
function trustedSubjects(template: Template): unknown {
  const roles = template.findResources('AWS::IAM::Role', {
    Properties: {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Action: 'sts:AssumeRoleWithWebIdentity' })],
      },
    },
  });
  const [role] = Object.values(roles) as {
    Properties: {
      AssumeRolePolicyDocument: { Statement: { Condition: { StringLike: Record<string, unknown> } }[] };
    };
  }[];
  return role!.Properties.AssumeRolePolicyDocument.Statement[0]!.Condition.StringLike[
    'token.actions.githubusercontent.com:sub'
  ];
}

describe('store-wide administrators', () => {
  it('reach the api function from the `adminPrincipals` context key, comma-separated or a JSON list', () => {
    const listed = synthArca({ adminPrincipals: `${OPS}, ${BREAK_GLASS}` });
    const json = synthArca({ adminPrincipals: JSON.stringify([OPS, BREAK_GLASS]) });

    for (const arca of [listed, json])
      expect(accessVariables(arca.template)[ENV.adminPrincipals]).toBe(`${OPS},${BREAK_GLASS}`);
    expect(functionEnvironment(listed.template, /scan/i)[ENV.adminPrincipals]).toBeUndefined();
  });

  it('reach the api function from the `adminPrincipals` prop of ArtifactStore', () => {
    expect(accessVariables(storeTemplate({ adminPrincipals: [OPS] }))).toEqual({
      [ENV.adminPrincipals]: OPS,
    });
  });

  it('are nobody by default, and no role map is ever set: every other binding lives in the index', () => {
    expect(accessVariables(synthArca().template)).toEqual({});
    expect(accessVariables(synthArca({ adminPrincipals: OPS, oidcIssuers: GITHUB }).template)).toEqual({
      [ENV.adminPrincipals]: OPS,
      [ENV.oidcIssuers]: GITHUB,
    });
  });

  it('fail the synth when one is not an IAM role or user ARN', () => {
    expect(() => synthArca({ adminPrincipals: '*' })).toThrow(/adminPrincipals: '\*' is not an IAM/);
    expect(() => storeTemplate({ adminPrincipals: ['111111111111'] })).toThrow(/is not an IAM/);
  });
});

describe('trusted OIDC issuers', () => {
  it('reach the api function from the `oidcIssuers` context key, comma-separated or a JSON list', () => {
    const listed = synthArca({ oidcIssuers: `${GITHUB}, ${GITLAB}` });
    const json = synthArca({ oidcIssuers: JSON.stringify([GITHUB, GITLAB]) });

    for (const arca of [listed, json])
      expect(accessVariables(arca.template)[ENV.oidcIssuers]).toBe(`${GITHUB},${GITLAB}`);
    expect(functionEnvironment(listed.template, /scan/i)[ENV.oidcIssuers]).toBeUndefined();
  });

  it('reach the api function from the `oidcIssuers` prop of ArtifactStore', () => {
    expect(accessVariables(storeTemplate({ oidcIssuers: [GITHUB] }))).toEqual({ [ENV.oidcIssuers]: GITHUB });
  });

  it('fail the synth unless https (http only on a loopback address)', () => {
    expect(() => synthArca({ oidcIssuers: 'http://issuer.example' })).toThrow(
      /oidcIssuers: issuer "http:\/\/issuer.example" must be https/,
    );
    expect(() => storeTemplate({ oidcIssuers: ['token.actions.githubusercontent.com'] })).toThrow(
      /is not a URL/,
    );
    expect(accessVariables(storeTemplate({ oidcIssuers: ['http://127.0.0.1:8080'] }))).toEqual({
      [ENV.oidcIssuers]: 'http://127.0.0.1:8080',
    });
  });
});

describe('the GitHub CI role', () => {
  it('trusts workflows on main only by default', () => {
    expect(trustedSubjects(synthArca().template)).toEqual(['repo:acme/widgets:ref:refs/heads/main']);
  });

  it('trusts the `githubSubjects` context key: branches, tags and environments', () => {
    const subjects = [
      'repo:acme/widgets:ref:refs/heads/main',
      'repo:acme/widgets:ref:refs/tags/v*',
      'repo:acme/widgets:environment:prod',
    ];
    const listed = synthArca({ githubSubjects: subjects.join(',') });
    const json = synthArca({ githubSubjects: JSON.stringify(subjects) });

    for (const arca of [listed, json]) expect(trustedSubjects(arca.template)).toEqual(subjects);
  });

  it('trusts the `githubSubjects` prop of ArtifactStore', () => {
    const template = storeTemplate({
      githubRepository: 'acme/widgets',
      githubSubjects: ['repo:acme/widgets:environment:prod'],
    });

    expect(trustedSubjects(template)).toEqual(['repo:acme/widgets:environment:prod']);
  });

  it('refuses a subject of another repository, an empty one, a wildcard repository, or subjects without a repository', () => {
    expect(() => synthArca({ githubSubjects: 'repo:evil/widgets:ref:refs/heads/main' })).toThrow(
      /must start with 'repo:acme\/widgets:'/,
    );
    expect(() => synthArca({ githubSubjects: 'repo:acme/widgets:' })).toThrow(/must start with/);
    expect(() => synthArca({ githubSubjects: '[]' })).toThrow(/at least one subject/);
    expect(() => synthArca({ githubRepository: 'acme/*' })).toThrow(/must be 'owner\/name'/);
    expect(() => storeTemplate({ githubSubjects: ['repo:acme/widgets:ref:refs/heads/main'] })).toThrow(
      /githubSubjects and githubOidcProvider need githubRepository/,
    );
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Ci');
    const api = new ArtifactStore(stack, 'Store').api;
    expect(
      () =>
        new GitHubCiRole(stack, 'Ci', { api, repository: 'acme/widgets', subjects: ['repo:acme/*:ref:x'] }),
    ).toThrow(/must start with 'repo:acme\/widgets:'/);
  });
});

describe('retired role maps', () => {
  it('fail the synth with the way to migrate: `githubNamespaces` and `iamRoles`', () => {
    expect(() => synthArca({ githubNamespaces: 'payments' })).toThrow(
      /'githubNamespaces' was removed: .*CiRoleArn.*members/,
    );
    expect(() =>
      storeTemplate({ iamRoles: { [OPS]: { roles: { web: ['read'] } } } } as unknown as ArtifactStoreProps),
    ).toThrow(/'iamRoles' was removed: .*members/);
  });
});
