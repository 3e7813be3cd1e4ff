import { COMMON_HELP, type Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { describeAttestations, describeFindings, describeVersion } from '../format.ts';
import { parseVersionRef } from '../refs.ts';
import { attestationsOf } from '../verification.ts';

export const show: Command = {
  help: `Usage: arca show <ns>/<pkg>@<version|stage>

Shows one version: state, stages, metadata, each file's size, sha256 and scan result, and its
attestations (kind, predicate type, signing key, whether the store verified the signature), ending
with "provenance: signed by <keyId>" or "provenance: none". That line is the store's own account;
\`arca verify\` checks the signature here, against a key you pin. After @, a name that is not a
version but a valid stage name shows the version that stage points at.

${COMMON_HELP}

Examples:
  arca show payments/api-server@1.4.2
  arca show payments/api-server@prod --json | jq -r .version`,
  run: async (ctx) => {
    const ref = parseVersionRef(ctx.positionals[0], '<version|stage>');
    if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument ${ctx.positionals[1]}`);
    const client = ctx.client();
    const version = await client.resolveVersion(ref);
    const attestations = await attestationsOf(client, version);
    if (ctx.json) {
      // The envelopes stay out: `arca verify --json` is the way to their content.
      const summaries = attestations.map(({ envelope: _envelope, ...summary }) => summary);
      ctx.print(JSON.stringify({ ...version, attestations: summaries }, null, 2));
      return 0;
    }
    const lines = [
      ...describeVersion(version),
      ...describeFindings(version),
      ...describeAttestations(attestations),
    ];
    for (const line of lines) ctx.print(line);
    return 0;
  },
};
