import { COMMON_HELP, type Command } from '../command.ts';
import { UsageError } from '../errors.ts';

interface PlannedAction {
  readonly action: string;
  readonly target: string;
  readonly reason: string;
}

export const gc: Command = {
  help: `Usage: arca gc plan|run

Garbage collection (admin). \`plan\` is a dry run listing what a run would do now: expire sessions,
tombstone versions past retention, delete tombstoned versions and unreferenced blobs. \`run\` does
it and prints the counts. Protected, promoted and leased versions are never touched.

${COMMON_HELP}

Examples:
  arca gc plan
  arca gc run --json`,
  run: async (ctx) => {
    const [mode, extra] = ctx.positionals;
    if ((mode !== 'plan' && mode !== 'run') || extra !== undefined) {
      throw new UsageError('expected `arca gc plan` or `arca gc run`');
    }
    const result = await ctx.client().gc(mode);
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
