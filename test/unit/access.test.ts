import { describe, expect, it } from 'vitest';
import { claimMatches, grantsOfClaims, grantsOfMember } from '../../functions/core/access.ts';
import { authorizePromote } from '../../functions/core/auth.ts';
import { DEFAULT_POLICY, type NamespacePolicy, type Principal } from '../../functions/core/model.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const policies = new Map<string, NamespacePolicy>([
  [
    'payments',
    {
      ...DEFAULT_POLICY,
      trust: [
        {
          issuer: GITHUB,
          audience: 'arca',
          claims: { repository: 'org/payments', ref: 'refs/heads/main' },
          roles: ['write', 'promote'],
          stages: ['dev'],
        },
        {
          issuer: GITHUB,
          audience: 'arca',
          claims: { repository: 'org/payments', ref: 'refs/tags/v*' },
          roles: ['promote'],
          stages: ['staging'],
        },
      ],
      members: [{ principal: 'arn:aws:iam::123456789012:role/deploy', roles: ['read'] }],
    },
  ],
  [
    'web',
    {
      ...DEFAULT_POLICY,
      trust: [{ issuer: GITHUB, audience: 'arca', claims: { repository: 'org/*' }, roles: ['read'] }],
    },
  ],
]);
const token = (claims: Record<string, unknown>, audiences = ['arca'], issuer = GITHUB) => ({
  issuer,
  audiences,
  claims,
});

describe('grants from namespace policies', () => {
  it('matches claim values exactly, or by prefix for a value ending in *', () => {
    expect(claimMatches('refs/heads/main', 'refs/heads/main')).toBe(true);
    expect(claimMatches('refs/heads/main', 'refs/heads/main2')).toBe(false);
    expect(claimMatches('refs/tags/v*', 'refs/tags/v1.2.0')).toBe(true);
    expect(claimMatches('refs/tags/v*', 'refs/heads/v1')).toBe(false);
    expect(claimMatches('x', 42)).toBe(false);
  });

  it('gives the roles of every matching rule and limits promote to the stages of the rules that grant it', () => {
    const main = grantsOfClaims(policies, token({ repository: 'org/payments', ref: 'refs/heads/main' }));
    expect(main).toEqual({
      roles: { payments: ['write', 'promote'], web: ['read'] },
      promoteStages: { payments: ['dev'] },
    });
    const tag = grantsOfClaims(policies, token({ repository: 'org/payments', ref: 'refs/tags/v2.0.0' }));
    expect(tag).toEqual({
      roles: { payments: ['promote'], web: ['read'] },
      promoteStages: { payments: ['staging'] },
    });
  });

  it('gives nothing for another issuer, another audience, or a claim that does not match', () => {
    const claims = { repository: 'org/payments', ref: 'refs/heads/main' };
    expect(grantsOfClaims(policies, token(claims, ['other'])).roles).toEqual({});
    expect(grantsOfClaims(policies, token(claims, ['arca'], 'https://gitlab.example.com')).roles).toEqual({});
    expect(
      grantsOfClaims(policies, token({ repository: 'evil/payments', ref: 'refs/heads/main' })).roles,
    ).toEqual({});
  });

  it('binds IAM members by ARN', () => {
    expect(grantsOfMember(policies, ['arn:aws:iam::123456789012:role/deploy'])).toEqual({
      roles: { payments: ['read'] },
      promoteStages: {},
    });
    expect(grantsOfMember(policies, ['arn:aws:iam::123456789012:role/other'])).toEqual({
      roles: {},
      promoteStages: {},
    });
  });

  it('refuses a promotion beyond the stages a principal is limited to', () => {
    const ci: Principal = {
      id: 'ci',
      kind: 'oidc',
      admin: false,
      roles: { payments: ['write', 'promote'] },
      promoteStages: { payments: ['dev'] },
    };
    expect(() => authorizePromote(ci, 'payments', 'dev')).not.toThrow();
    expect(() => authorizePromote(ci, 'payments', 'prod')).toThrow(/only to dev/);
    expect(() => authorizePromote(ci, 'web', 'dev')).toThrow(/lacks the promote role/);
  });
});
