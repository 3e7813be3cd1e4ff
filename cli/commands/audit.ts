import type { AuditEvent } from '../../functions/core/model.ts';
import { COMMON_HELP, type Command, positiveInt, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';

export const audit: Command = {
  help: `Usage: arca audit [--namespace ns] [--limit n] [--all]

Lists audit events (admin), newest first: who did what to which target, under which request id.
Every mutation (upload, commit, promote, lease, GC deletion) leaves one.

Options:
  --namespace <ns>  only this namespace
  --limit <n>       events per page (default 50)
  --all             follow every page
  --cursor <c>      start from this page cursor
${COMMON_HELP}

Examples:
  arca audit --namespace payments
  arca audit --all --json | jq 'map(select(.action | startswith("gc.")))'`,
  options: {
    namespace: { type: 'string' },
    limit: { type: 'string', default: '50' },
    all: { type: 'boolean', default: false },
    cursor: { type: 'string' },
  },
  run: async (ctx) => {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const namespace = stringOption(ctx.values, 'namespace');
    const limit = positiveInt(ctx.values, 'limit', 50);
    const client = ctx.client();
    const events: AuditEvent[] = [];
    let cursor = stringOption(ctx.values, 'cursor');
    do {
      const page = await client.audit({ namespace, limit, cursor });
      events.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && ctx.values['all'] === true);
    if (ctx.json) {
      ctx.print(JSON.stringify(events, null, 2));
      return 0;
    }
    for (const e of events)
      ctx.print(`${e.at}  ${e.actor}  ${e.action}  ${e.target}  (request ${e.requestId})`);
    if (cursor) ctx.info(`more: arca audit --cursor ${cursor}`);
    return 0;
  },
};
