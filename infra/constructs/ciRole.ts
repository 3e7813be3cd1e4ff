import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ArtifactApi } from './api.ts';
import { acknowledgeResourceWildcards } from './nag.ts';

const GITHUB_ISSUER = 'token.actions.githubusercontent.com';

export interface GitHubCiRoleProps {
  /** The API the role may call. */
  readonly api: ArtifactApi;
  /** `owner/name` of the repository whose workflows may assume the role. */
  readonly repository: string;
  /**
   * Token subjects allowed to assume the role (`sub` claim), each starting `repo:<repository>:`:
   * `…:ref:refs/heads/main` (a branch), `…:ref:refs/tags/v*` (tags, `*` a wildcard),
   * `…:environment:prod` (a job with `environment: prod`, whatever its branch: GitHub puts the
   * environment in `sub` in place of the ref), `…:pull_request`.
   * @default - [`repo:<repository>:ref:refs/heads/main`]
   */
  readonly subjects?: readonly string[];
  /**
   * The account's GitHub OIDC provider, when it already exists (an account has at most one per URL).
   * @default - a new provider for token.actions.githubusercontent.com
   */
  readonly provider?: iam.IOidcProvider;
}

/** The subjects a role trusts by default: workflows on the default branch `main` only. */
export const defaultGitHubSubjects = (repository: string): string[] => [
  `repo:${repository}:ref:refs/heads/main`,
];

/**
 * A role GitHub Actions assumes with its OIDC token (no stored keys) to call the SigV4 API. It may
 * call the API and nothing else; inside Arca it holds what the namespace policies' `members` bind
 * to its ARN (none until an admin binds it: every route but health and whoami answers 403).
 */
export class GitHubCiRole extends Construct {
  public readonly role: iam.Role;
  /** The `sub` claims the role's trust policy accepts. */
  public readonly subjects: readonly string[];

  constructor(scope: Construct, id: string, props: GitHubCiRoleProps) {
    super(scope, id);
    const provider =
      props.provider ??
      new iam.OidcProviderNative(this, 'Provider', {
        url: `https://${GITHUB_ISSUER}`,
        clientIds: ['sts.amazonaws.com'],
      });
    const subjects = props.subjects ?? defaultGitHubSubjects(props.repository);
    checkSubjects(props.repository, subjects);
    this.subjects = [...subjects];
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

/**
 * Each subject pins the repository (else any GitHub repository could assume the role) and names
 * something after it; `*` only there, never in the repository part.
 */
function checkSubjects(repository: string, subjects: readonly string[]): void {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository))
    throw new Error(`GitHub repository '${repository}' must be 'owner/name' (no wildcard)`);
  if (subjects.length === 0) throw new Error('the GitHub CI role needs at least one subject');
  const prefix = `repo:${repository}:`;
  for (const subject of subjects)
    if (!subject.startsWith(prefix) || subject.length === prefix.length)
      throw new Error(
        `GitHub OIDC subject '${subject}' must start with '${prefix}' and name a ref, an environment or pull_request`,
      );
}
