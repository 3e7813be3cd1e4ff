import { COMMON_HELP, type Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { describeFindings, describeVersion } from '../format.ts';
import { parseVersionRef } from '../refs.ts';

export const show: Command = {
  help: `Usage: arca show <ns>/<pkg>@<version|stage>

Shows one version: state, stages, metadata and each file's size, sha256 and scan result. After @,
a name that is not a version but a valid stage name shows the version that stage points at.

${COMMON_HELP}

Examples:
  arca show payments/api-server@1.4.2
  arca show payments/api-server@prod --json | jq -r .version`,
  run: async (ctx) => {
    const ref = parseVersionRef(ctx.positionals[0], '<version|stage>');
    if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument ${ctx.positionals[1]}`);
    const version = await ctx.client().resolveVersion(ref);
    if (ctx.json) ctx.print(JSON.stringify(version, null, 2));
    else for (const line of [...describeVersion(version), ...describeFindings(version)]) ctx.print(line);
    return 0;
  },
};
