import { readFile } from 'node:fs/promises';
import type { DsseEnvelope } from '../../functions/core/model.ts';
import { COMMON_HELP, type Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { parseVersionRef } from '../refs.ts';

export const attest: Command = {
  help: `Usage: arca attest <ns>/<pkg>@<version> <envelope.json>

Uploads a publisher attestation: a DSSE envelope made elsewhere (cosign attest, in-toto, an SBOM
attestation from the build) whose subjects are files of the version. Prints the stored attestation's
id (alone on stdout, for scripts). A subject that is not a file of the version (SubjectMismatch), or a signature the namespace does
not trust when its policy lists trusted publisher keys (UntrustedSignature), exits 4 with the
store's reason. Not retried: a repeat after a lost answer could store it twice.

${COMMON_HELP}

Examples:
  arca attest payments/api-server@1.4.2 sbom.intoto.json
  arca attest payments/api-server@1.4.2 build/attestation.dsse.json --json | jq -r .id`,
  run: async (ctx) => {
    const ref = parseVersionRef(ctx.positionals[0]);
    const path = ctx.positionals[1];
    if (!path) throw new UsageError('attest needs <envelope.json>');
    if (ctx.positionals.length > 2) throw new UsageError(`unexpected argument ${ctx.positionals[2]}`);
    const envelope = parseEnvelope(path, await readEnvelope(path));
    const stored = await ctx.client().attest(ref, envelope);
    if (ctx.json) ctx.print(JSON.stringify(stored, null, 2));
    else ctx.print(stored.id);
    return 0;
  },
};

function readEnvelope(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
}

/** Checks the DSSE shape here, so a wrong file fails before any request; the store checks the rest. */
function parseEnvelope(path: string, text: string): DsseEnvelope {
  let value: Partial<DsseEnvelope>;
  try {
    value = JSON.parse(text) as Partial<DsseEnvelope>;
  } catch {
    throw new UsageError(`${path}: not JSON`);
  }
  if (
    typeof value?.payloadType !== 'string' ||
    typeof value.payload !== 'string' ||
    !Array.isArray(value.signatures)
  ) {
    throw new UsageError(`${path}: not a DSSE envelope (payloadType, payload, signatures)`);
  }
  return value as DsseEnvelope;
}
