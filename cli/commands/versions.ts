import type { ArcaClient, Version } from '../client.ts';
import { COMMON_HELP, type Command, positiveInt, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';
import { provenanceSigner } from '../format.ts';
import { runPool } from '../pool.ts';
import { parsePackageRef } from '../refs.ts';
import { attestationsOf } from '../verification.ts';

/** The signed-versions ratio costs one request per version: counted only for a listing this short. */
const RATIO_MAX_VERSIONS = 20;

export const versions: Command = {
  help: `Usage: arca versions <ns>/<pkg> [--limit n] [--all] [--deleted]

Lists a package's versions, newest first: version, state, creation time, stages. A listing of at
most ${RATIO_MAX_VERSIONS} versions ends with "signed versions: N of M listed": those whose store
provenance the store reports as signed (one request per version; not under --json).

Options:
  --limit <n>       versions per page (default 20, at most 100)
  --all             follow every page
  --cursor <c>      start from this page cursor (printed after a partial listing)
  --deleted         list deleted versions too (state "deleted")
${COMMON_HELP}

Examples:
  arca versions payments/api-server
  arca versions payments/api-server --all --json | jq -r '.[].version'`,
  options: {
    limit: { type: 'string', default: '20' },
    all: { type: 'boolean', default: false },
    cursor: { type: 'string' },
    deleted: { type: 'boolean', default: false },
  },
  run: async (ctx) => {
    const ref = parsePackageRef(ctx.positionals[0]);
    if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument ${ctx.positionals[1]}`);
    const limit = positiveInt(ctx.values, 'limit', 20);
    const client = ctx.client();
    const items: Version[] = [];
    let cursor = stringOption(ctx.values, 'cursor');
    do {
      const page = await client.listVersions(ref, {
        limit,
        cursor,
        includeDeleted: ctx.values['deleted'] === true,
      });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && ctx.values['all'] === true);

    if (ctx.json) {
      ctx.print(JSON.stringify(items, null, 2));
      return 0;
    }
    if (items.length === 0) ctx.info(`no versions of ${ref.namespace}/${ref.package}`);
    const width = Math.max(7, ...items.map((v) => v.version.length));
    for (const v of items) {
      const stages = v.stages.length > 0 ? `  [${v.stages.join(', ')}]` : '';
      ctx.print(`${v.version.padEnd(width)}  ${v.state.padEnd(11)}  ${v.createdAt}${stages}`);
    }
    if (items.length > RATIO_MAX_VERSIONS) {
      ctx.info(`signed versions: not counted for more than ${RATIO_MAX_VERSIONS} listed (one request each)`);
    } else if (items.length > 0) {
      ctx.print(`signed versions: ${await countSigned(client, items)} of ${items.length} listed`);
    }
    if (cursor) {
      const deleted = ctx.values['deleted'] === true ? ' --deleted' : '';
      ctx.info(`more: arca versions ${ref.namespace}/${ref.package}${deleted} --cursor ${cursor}`);
    }
    return 0;
  },
};

async function countSigned(client: ArcaClient, items: readonly Version[]): Promise<number> {
  let signed = 0;
  await runPool(
    items.map((version) => async () => {
      if (provenanceSigner(await attestationsOf(client, version)).startsWith('signed by')) signed++;
    }),
    4,
  );
  return signed;
}
