import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { Role } from '../../functions/core/model.ts';
import { isNamespace } from '../../functions/core/names.ts';
import type { ArtifactApi } from './api.ts';
import { acknowledgeResourceWildcards } from './nag.ts';

const GITHUB_ISSUER = 'token.actions.githubusercontent.com';

export interface GitHubCiRoleProps {
  /** The API the role may call. */
  readonly api: ArtifactApi;
  /** `owner/name` of the repository whose workflows may assume the role. */
  readonly repository: string;
  /**
   * Token subjects allowed to assume the role (`sub` claim), e.g. `repo:owner/name:environment:prod`.
   * @default - [`repo:<repository>:ref:refs/heads/main`]
   */
  readonly subjects?: readonly string[];
  /**
   * The account's GitHub OIDC provider, when it already exists (an account has at most one per URL).
   * @default - a new provider for token.actions.githubusercontent.com
   */
  readonly provider?: iam.IOidcProvider;
  /**
   * Namespaces CI publishes to and promotes in: the role holds `roles` in each of them and nothing
   * anywhere else. Never `*`, and never store admin (GC, audit, policies stay with named admins).
   * @default - none: the role authenticates but every route but health answers 403
   */
  readonly namespaces?: readonly string[];
  /**
   * Arca roles the CI role holds in each of `namespaces` (`read` is implied by any of them).
   * @default ['write', 'promote']
   */
  readonly roles?: readonly Exclude<Role, 'admin'>[];
}

/**
 * A role GitHub Actions assumes with its OIDC token (no stored keys) to call the API with SigV4.
 * It may call the API and nothing else; inside Arca it holds `arcaRoles`, which `ArtifactStore`
 * binds to it in the API's role map.
 */
export class GitHubCiRole extends Construct {
  public readonly role: iam.Role;
  /** Arca roles per namespace (empty without `namespaces`); never store admin. */
  public readonly arcaRoles: Readonly<Record<string, readonly Role[]>>;

  constructor(scope: Construct, id: string, props: GitHubCiRoleProps) {
    super(scope, id);
    const provider =
      props.provider ??
      new iam.OidcProviderNative(this, 'Provider', {
        url: `https://${GITHUB_ISSUER}`,
        clientIds: ['sts.amazonaws.com'],
      });
    this.arcaRoles = ciRoleBindings(props.namespaces ?? [], props.roles ?? ['write', 'promote']);
    const subjects = props.subjects ?? [`repo:${props.repository}:ref:refs/heads/main`];
    // A subject without the repository would let any GitHub repository assume the role.
    for (const subject of subjects)
      if (!subject.startsWith(`repo:${props.repository}:`))
        throw new Error(`GitHub OIDC subject '${subject}' must start with 'repo:${props.repository}:'`);
    this.role = new iam.Role(this, 'Role', {
      description: `Arca publisher for GitHub Actions in ${props.repository}`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: { [`${GITHUB_ISSUER}:aud`]: 'sts.amazonaws.com' },
        // StringLike so a subject can use wildcards (e.g. every tag); the repository is always pinned.
        StringLike: { [`${GITHUB_ISSUER}:sub`]: [...subjects] },
      }),
    });
    const { partition, region, account } = Stack.of(this);
    const routes = `arn:${partition}:execute-api:${region}:${account}:${props.api.httpApi.apiId}/*/*/v1/*`;
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: [routes] }));
    acknowledgeResourceWildcards(
      this.role,
      [routes],
      'Every route of this one API (any stage and method); the API authorises per namespace and role.',
    );
  }
}

function ciRoleBindings(
  namespaces: readonly string[],
  roles: readonly Role[],
): Readonly<Record<string, readonly Role[]>> {
  // Checked here as well as by the type: JavaScript callers and cdk.json reach this unchecked.
  if (roles.includes('admin')) throw new Error("the GitHub CI role may not hold the 'admin' role");
  for (const namespace of namespaces)
    if (!isNamespace(namespace))
      throw new Error(`GitHub CI namespace '${namespace}' is not a namespace name (and '*' is not allowed)`);
  return Object.fromEntries(namespaces.map((namespace) => [namespace, [...roles]]));
}
