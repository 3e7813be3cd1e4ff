import type { Version } from '../client.ts';
import { COMMON_HELP, type Command, positiveInt, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';

export const search: Command = {
  help: `Usage: arca search --sha256 <digest> | arca search <ns> --meta <key>=<value> [--limit n] [--all]

Finds versions through the store's search index: those holding a file with this content (in the
namespaces you may read), or those of one namespace with exactly this metadata value, newest first.
One line each: ns/pkg@version, state, creation time.

Options:
  --sha256 <digest>   sha256:<hex> or the bare 64 hex (sha256sum prints it)
  --meta <key>=<v>    one metadata key and its exact value
  --limit <n>         versions per page (default 20, at most 100)
  --all               follow every page
  --cursor <c>        start from this page cursor (printed after a partial listing)
${COMMON_HELP}

Examples:
  arca search --sha256 $(sha256sum api.tar.gz | cut -d' ' -f1)
  arca search payments --meta commit=9f1c --all --json | jq -r '.[].version'`,
  options: {
    sha256: { type: 'string' },
    meta: { type: 'string' },
    limit: { type: 'string', default: '20' },
    all: { type: 'boolean', default: false },
    cursor: { type: 'string' },
  },
  run: async (ctx) => {
    const sha256 = stringOption(ctx.values, 'sha256');
    const meta = stringOption(ctx.values, 'meta');
    const [namespace, extra] = ctx.positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    const query = new URLSearchParams();
    if (sha256 !== undefined) {
      if (meta !== undefined || namespace !== undefined)
        throw new UsageError('--sha256 searches every namespace you may read: no <ns>, no --meta');
      query.set('sha256', sha256);
    } else {
      const at = meta?.indexOf('=') ?? -1;
      if (namespace === undefined || meta === undefined || at < 1)
        throw new UsageError('search needs --sha256 <digest>, or <ns> --meta <key>=<value>');
      query.set('namespace', namespace);
      query.set(`meta.${meta.slice(0, at)}`, meta.slice(at + 1));
    }
    query.set('limit', String(positiveInt(ctx.values, 'limit', 20)));
    const client = ctx.client();
    const items: Version[] = [];
    let cursor = stringOption(ctx.values, 'cursor');
    do {
      if (cursor) query.set('cursor', cursor);
      const page = await client.search(query);
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && ctx.values['all'] === true);

    if (ctx.json) {
      ctx.print(JSON.stringify(items, null, 2));
      return 0;
    }
    if (items.length === 0) ctx.info('no versions found');
    const refs = items.map((v) => `${v.namespace}/${v.package}@${v.version}`);
    const width = Math.max(0, ...refs.map((r) => r.length));
    for (const [i, v] of items.entries()) {
      ctx.print(`${refs[i]!.padEnd(width)}  ${v.state.padEnd(11)}  ${v.createdAt}`);
    }
    if (cursor) ctx.info(`more: add --cursor ${cursor}`);
    return 0;
  },
};
