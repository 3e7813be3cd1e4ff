import { COMMON_HELP, type Command } from '../command.ts';
import { UsageError } from '../errors.ts';

export const namespaces: Command = {
  help: `Usage: arca namespaces

Lists the namespaces you can read (those holding versions or a policy), one per line, sorted. A
namespace you hold no role in is never named.
${COMMON_HELP}

Examples:
  arca namespaces
  arca namespaces --json | jq -r '.[].name'`,
  run: async (ctx) => {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const { items } = await ctx.client().listNamespaces();
    if (ctx.json) {
      ctx.print(JSON.stringify(items, null, 2));
      return 0;
    }
    if (items.length === 0) ctx.info('no namespaces you can read');
    for (const ns of items) ctx.print(ns.name);
    return 0;
  },
};
