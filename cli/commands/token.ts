import { UPLOAD_ID_PATTERN } from '../../functions/core/ids.ts';
import { isNamespace } from '../../functions/core/names.ts';
import { TOKEN_TTL } from '../../functions/core/tokens.ts';
import type { Role, TokenView } from '../client.ts';
import { COMMON_HELP, type Command, type Context, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';
import { parseDuration } from '../refs.ts';

const ROLES: readonly Role[] = ['read', 'write', 'promote', 'admin'];

export const token: Command = {
  help: `Usage: arca token create <name> --role <ns>=<role>[,<role>…] … [--ttl 90d]
       arca token list
       arca token revoke <id>

Manages Arca tokens: bearer credentials scoped to roles in namespaces, for CI and CD. A store admin
manages every token; a namespace admin only tokens whose roles lie in namespaces it administers. A
token is never a store admin. See docs/access.md.

  create   mints a token and prints its secret (arca_…) on stdout, once: the store keeps only its
           hash, so copy it into the CI secret now. --json prints the whole API answer instead.
  list     the live tokens you manage: id, name, roles, expiry, last use (never a secret)
  revoke   the token answers 401 from now on

Options:
  --role <ns>=<roles>   roles in a namespace (or * for every namespace): read, write, promote,
                        admin, comma-separated; repeat for more namespaces (create; required)
  --ttl <dur>           lifetime, 60s..365d (create; default 90d)
${COMMON_HELP}

Examples:
  arca token create ci-payments --role payments=write,promote --ttl 90d
  arca token create cd-readonly --role payments=read --role web=read --json
  arca token list
  arca token revoke 01JD8Z3QK7V6M2W4X9Y5T1R0SA`,
  options: {
    role: { type: 'string', multiple: true },
    ttl: { type: 'string' },
  },
  run: async (ctx) => {
    const [action, ...args] = ctx.positionals;
    if (action === 'create') return create(ctx, args);
    if (action === 'list') return list(ctx, args);
    if (action === 'revoke') return revoke(ctx, args);
    throw new UsageError('expected `arca token create`, `arca token list` or `arca token revoke`');
  },
};

async function create(ctx: Context, args: readonly string[]): Promise<number> {
  const [name, extra] = args;
  if (!name) throw new UsageError('token create needs a name: arca token create <name> --role <ns>=<role>');
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  const roles = parseRoles((ctx.values['role'] as string[] | undefined) ?? []);
  const ttl = stringOption(ctx.values, 'ttl');
  const ttlSeconds = ttl === undefined ? undefined : parseTtl(ttl);
  const created = await ctx.client().createToken({ name, roles, ttlSeconds });
  if (ctx.json) ctx.print(JSON.stringify(created, null, 2));
  else {
    ctx.info(`created token ${created.name} (id ${created.id}): ${formatRoles(created.roles)}`);
    ctx.info(`expires ${created.expiresAt}`);
    ctx.print(created.token);
  }
  // Not silenced by --quiet: losing the secret means minting another.
  process.stderr.write(
    'This secret is shown once and cannot be retrieved again: store it now (e.g. as the CI secret ARCA_TOKEN).\n',
  );
  return 0;
}

async function list(ctx: Context, args: readonly string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
  const { items } = await ctx.client().listTokens();
  if (ctx.json) {
    ctx.print(JSON.stringify(items, null, 2));
    return 0;
  }
  if (items.length === 0) ctx.info('no tokens you manage');
  const width = Math.max(4, ...items.map((t) => t.name.length));
  for (const t of items) ctx.print(describeToken(t, width));
  return 0;
}

async function revoke(ctx: Context, args: readonly string[]): Promise<number> {
  const [id, extra] = args;
  if (!id) throw new UsageError('token revoke needs the token id (see arca token list)');
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  if (id.startsWith('arca_')) {
    throw new UsageError(
      'pass the token id (see arca token list), not the secret: it ends up in shell history',
    );
  }
  if (!UPLOAD_ID_PATTERN.test(id)) throw new UsageError(`invalid token id ${JSON.stringify(id)}`);
  await ctx.client().revokeToken(id);
  if (ctx.json) ctx.print(JSON.stringify({ id, revoked: true }));
  else ctx.print(`revoked token ${id}`);
  return 0;
}

/**
 * `--role payments=write,promote --role web=read` → `{"payments":["write","promote"],"web":["read"]}`.
 * A namespace given twice gathers its roles; a role named twice counts once.
 */
export function parseRoles(flags: readonly string[]): Record<string, Role[]> {
  if (flags.length === 0) {
    throw new UsageError('token create needs at least one --role <ns>=<role>[,<role>…]');
  }
  const roles: Record<string, Role[]> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const namespace = eq < 0 ? '' : flag.slice(0, eq);
    const names = eq < 0 ? [] : flag.slice(eq + 1).split(',');
    if (!namespace || names.some((n) => n === '')) {
      throw new UsageError(`--role expects <ns>=<role>[,<role>…], got ${JSON.stringify(flag)}`);
    }
    if (namespace !== '*' && !isNamespace(namespace)) {
      throw new UsageError(`--role: invalid namespace ${JSON.stringify(namespace)}`);
    }
    const list = roles[namespace] ?? [];
    roles[namespace] = list;
    for (const name of names) {
      if (!ROLES.includes(name as Role)) {
        throw new UsageError(`--role: unknown role ${JSON.stringify(name)} (roles: ${ROLES.join(', ')})`);
      }
      if (!list.includes(name as Role)) list.push(name as Role);
    }
  }
  return roles;
}

function parseTtl(text: string): number {
  const seconds = parseDuration(text);
  if (seconds < TOKEN_TTL.min || seconds > TOKEN_TTL.max) {
    throw new UsageError(`--ttl must be between 60s and 365d, got ${text}`);
  }
  return seconds;
}

export const formatRoles = (roles: Readonly<Record<string, readonly string[]>>): string =>
  Object.entries(roles)
    .map(([ns, list]) => `${ns}=${list.join(',')}`)
    .join(' ');

function describeToken(t: TokenView, width: number): string {
  const used = t.lastUsedAt ? `last used ${t.lastUsedAt}` : 'never used';
  return `${t.id}  ${t.name.padEnd(width)}  ${formatRoles(t.roles)}  expires ${t.expiresAt}  ${used}`;
}
