import type { WhoAmI } from '../client.ts';
import { COMMON_HELP, type Command } from '../command.ts';
import { UsageError } from '../errors.ts';

export const whoami: Command = {
  help: `Usage: arca whoami

Shows who the store takes you for: the principal's kind (admin, token, iam, oidc) and id, whether it
is a store admin, its roles per namespace, the stages its promotions are limited to, and the verified
claims of an OIDC token (repository, workflow, ref…). The first thing to run when CI cannot publish
or CD cannot pull. Exit 5 means no credential the store accepts reached it.

${COMMON_HELP}

Examples:
  arca whoami
  arca whoami --json | jq .roles`,
  run: async (ctx) => {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const me = await ctx.client().whoami();
    if (ctx.json) ctx.print(JSON.stringify(me, null, 2));
    else for (const line of describeCaller(me)) ctx.print(line);
    return 0;
  },
};

/** The caller as a few readable lines: identity, roles per namespace (promote limits inline), claims. */
export function describeCaller(me: WhoAmI): string[] {
  const lines = [`${me.id}  (${me.kind})`, `store admin: ${me.admin ? 'yes' : 'no'}`];
  const namespaces = Object.keys(me.roles).sort();
  if (me.admin) lines.push('roles: every role in every namespace (store admin)');
  else if (namespaces.length === 0) lines.push('roles: none (every route but health answers 403)');
  else lines.push('roles:');
  const width = Math.max(0, ...namespaces.map((ns) => ns.length));
  for (const ns of namespaces) {
    const stages = me.promoteStages?.[ns] ?? me.promoteStages?.['*'];
    const roles = (me.roles[ns] ?? []).map((role) =>
      role === 'promote' && stages ? `promote (stages: ${stages.join(', ')})` : role,
    );
    lines.push(`  ${ns.padEnd(width)}  ${roles.join(', ')}`);
  }
  const claims = Object.entries(me.claims);
  if (claims.length > 0) {
    lines.push('claims:');
    const keyWidth = Math.max(...claims.map(([key]) => key.length));
    for (const [key, value] of claims) lines.push(`  ${key.padEnd(keyWidth)}  ${value}`);
  }
  return lines;
}
