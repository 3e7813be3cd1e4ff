import { isStage } from '../../functions/core/names.ts';
import { COMMON_HELP, type Command, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';
import { formatRef, parseVersionRef } from '../refs.ts';

export const promote: Command = {
  help: `Usage: arca promote <ns>/<pkg>@<version> --to <stage>

Points a stage (dev, staging, prod…) at a version. Only an available version can be promoted; a
namespace policy may impose an order (dev → staging → prod) or make a stage immutable (exit 3).

Options:
  --to <stage>   the stage to move
${COMMON_HELP}

Examples:
  arca promote payments/api-server@1.4.2 --to staging
  arca promote payments/api-server@1.4.2 --to prod --json`,
  options: { to: { type: 'string' } },
  run: async (ctx) => {
    const ref = parseVersionRef(ctx.positionals[0]);
    if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument ${ctx.positionals[1]}`);
    const stage = stringOption(ctx.values, 'to');
    if (!stage) throw new UsageError('promote needs --to <stage>');
    if (!isStage(stage)) throw new UsageError(`invalid stage ${JSON.stringify(stage)}`);
    const result = await ctx.client().promote(ref, stage);
    if (ctx.json) ctx.print(JSON.stringify(result, null, 2));
    else {
      const from = result.previousVersion ? ` (was ${result.previousVersion})` : '';
      ctx.print(`${formatRef({ ...ref, version: result.stage })} → ${result.version}${from}`);
    }
    return 0;
  },
};
