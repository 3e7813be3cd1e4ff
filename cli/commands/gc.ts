import { COMMON_HELP, type Command, positiveInt, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';

interface PlannedAction {
  readonly action: string;
  readonly target: string;
  readonly reason: string;
}

export const gc: Command = {
  help: `Usage: arca gc plan|run [--budget seconds]

Garbage collection (admin). \`plan\` is a dry run listing what a run would do now: expire sessions,
tombstone versions past retention, delete tombstoned versions and unreferenced blobs. \`run\` does
it and prints the counts, and why it stopped: \`done\`, or \`budget\` / \`maxActions\` when there is
more to do (the next run resumes where it stopped). Protected, promoted and leased versions are
never touched.

Options:
  --budget <s>      run: stop starting steps after this many seconds (1..900; default: no limit)
${COMMON_HELP}

Examples:
  arca gc plan
  arca gc run --budget 60 --json`,
  options: { budget: { type: 'string' } },
  run: async (ctx) => {
    const [mode, extra] = ctx.positionals;
    if ((mode !== 'plan' && mode !== 'run') || extra !== undefined) {
      throw new UsageError('expected `arca gc plan` or `arca gc run`');
    }
    if (mode === 'plan' && stringOption(ctx.values, 'budget') !== undefined) {
      throw new UsageError('--budget applies to `arca gc run`');
    }
    const budget =
      stringOption(ctx.values, 'budget') === undefined ? undefined : positiveInt(ctx.values, 'budget', 1);
    const result = await ctx.client().gc(mode, budget === undefined ? {} : { budgetSeconds: budget });
    if (ctx.json) {
      ctx.print(JSON.stringify(result, null, 2));
      return 0;
    }
    if (mode === 'plan') {
      const actions = (result['actions'] as PlannedAction[] | undefined) ?? [];
      if (actions.length === 0) ctx.print('nothing to collect');
      for (const a of actions) ctx.print(`${a.action.padEnd(16)}  ${a.target}  (${a.reason})`);
      return 0;
    }
    for (const [key, value] of Object.entries(result)) {
      ctx.print(`${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
    }
    return 0;
  },
};
