import { isNamespace } from '../../functions/core/names.ts';
import type { PackageSummary } from '../client.ts';
import { COMMON_HELP, type Command, positiveInt, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';

export const packages: Command = {
  help: `Usage: arca packages <ns> [--limit n] [--all]

Lists a namespace's packages, sorted by name: latest version (not deleted), when its newest version
was published, and where each stage points. Needs a role in the namespace.

Options:
  --limit <n>       packages per page (default 20, at most 100)
  --all             follow every page
  --cursor <c>      start from this page cursor (printed after a partial listing)
${COMMON_HELP}

Examples:
  arca packages payments
  arca packages payments --all --json | jq -r '.[] | "\\(.name) \\(.stages.prod)"'`,
  options: {
    limit: { type: 'string', default: '20' },
    all: { type: 'boolean', default: false },
    cursor: { type: 'string' },
  },
  run: async (ctx) => {
    const namespace = ctx.positionals[0];
    if (!namespace) throw new UsageError('packages needs a namespace: arca packages <ns>');
    if (!isNamespace(namespace)) throw new UsageError(`invalid namespace ${JSON.stringify(namespace)}`);
    if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument ${ctx.positionals[1]}`);
    const limit = positiveInt(ctx.values, 'limit', 20);
    const client = ctx.client();
    const items: PackageSummary[] = [];
    let cursor = stringOption(ctx.values, 'cursor');
    do {
      const page = await client.listPackages(namespace, { limit, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && ctx.values['all'] === true);

    if (ctx.json) {
      ctx.print(JSON.stringify(items, null, 2));
      return 0;
    }
    if (items.length === 0) ctx.info(`no packages in ${namespace}`);
    const width = Math.max(7, ...items.map((p) => p.name.length));
    const latestWidth = Math.max(6, ...items.map((p) => (p.latestVersion ?? '-').length));
    for (const p of items) {
      const stages = Object.entries(p.stages).map(([stage, version]) => `${stage}=${version}`);
      const shown = stages.length > 0 ? `  [${stages.join(', ')}]` : '';
      ctx.print(
        `${p.name.padEnd(width)}  ${(p.latestVersion ?? '-').padEnd(latestWidth)}  ${p.updatedAt ?? '-'}${shown}`,
      );
    }
    if (cursor) ctx.info(`more: arca packages ${namespace} --cursor ${cursor}`);
    return 0;
  },
};
