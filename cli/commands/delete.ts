import { DELETE_REASON_MAX_LENGTH, deleteReasonOf } from '../../functions/core/deletionReason.ts';
import { COMMON_HELP, type Command, stringOption } from '../command.ts';
import { CliError, HttpError, UsageError } from '../errors.ts';
import { formatRef, parseVersionRef } from '../refs.ts';

export const deleteCommand: Command = {
  help: `Usage: arca delete <ns>/<pkg>@<version> --reason <text>

Deletes a version for good (a CVE, a leaked secret): its files are no longer served (exit 2 on a
fetch), it is listed only by "arca versions --deleted", and its version number can never be
published again. GC then removes its bytes unless another version shares them. Needs the admin
role in the namespace. A version a stage points at or a lease holds is refused (exit 3) with the
stages and leases named: move the stages and release the leases first.

Options:
  --reason <text>   why (required, at most ${DELETE_REASON_MAX_LENGTH} characters): shown with the version and in the audit log
${COMMON_HELP}

Examples:
  arca delete payments/api-server@1.4.2 --reason "CVE-2026-1234 in libfoo"
  arca delete payments/api-server@1.4.2 --reason "leaked token" --json`,
  options: { reason: { type: 'string' } },
  run: async (ctx) => {
    const ref = parseVersionRef(ctx.positionals[0]);
    if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument ${ctx.positionals[1]}`);
    const given = stringOption(ctx.values, 'reason');
    if (given === undefined) throw new UsageError('delete needs --reason <text>');
    const reason = deleteReasonOf(given);
    if (reason === undefined)
      throw new UsageError(
        `--reason must be one line of 1..${DELETE_REASON_MAX_LENGTH} characters, without control characters`,
      );
    const client = ctx.client();
    try {
      await client.deleteVersion(ref, reason);
    } catch (error) {
      throw explainProtected(error, formatRef(ref));
    }
    const version = await client.getVersion(ref);
    if (ctx.json) ctx.print(JSON.stringify(version, null, 2));
    else ctx.print(`${formatRef(ref)} deleted (${version.reason ?? reason})`);
    return 0;
  },
};

interface Protection {
  readonly stages?: readonly string[];
  readonly leases?: readonly {
    readonly leaseId: string;
    readonly holder: string;
    readonly expiresAt: string;
  }[];
}

/** A `Protected` refusal, told with what protects the version. */
function explainProtected(error: unknown, label: string): unknown {
  if (!(error instanceof HttpError) || error.code !== 'Protected') return error;
  const details = (error.details ?? {}) as Protection;
  const held = [
    ...(details.stages ?? []).map((stage) => `stage ${stage}`),
    ...(details.leases ?? []).map((l) => `lease ${l.leaseId} (${l.holder}, until ${l.expiresAt})`),
  ];
  return new CliError(
    error.exitCode,
    `${label} is protected by ${held.join(', ') || 'a stage or lease'}: move the stages and release the leases first`,
    error.code,
  );
}
