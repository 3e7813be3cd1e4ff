import { COMMON_HELP, type Command } from '../command.ts';
import type { NamedDigest } from '../provenance.ts';
import { formatRef, parseVersionRef } from '../refs.ts';
import {
  sha256OfFile,
  VERIFY_HELP,
  VERIFY_OPTIONS,
  verifyRequestOf,
  verifyVersion,
} from '../verification.ts';

export const verify: Command = {
  help: `Usage: arca verify <ns>/<pkg>@<version|stage> [files…] [--key pub.pem] [--repository org/x] [--ref ref]

Proves a version is what the store recorded and CI built: the store's provenance attestation must be
signed by a trusted key (checked here, with node:crypto, over the DSSE PAE), its subjects must be
exactly the version's files (name and sha256), each local file given must hash to its subject's sha256
(a path matches the subject it ends with: deploy/dist/app.js is dist/app.js), and the publisher's
verified CI identity must match --repository and --ref. Exit 0 prints one "verified: …" line; any
failure exits 4 with one line naming it: MissingAttestation, WrongKey, SubjectMismatch, TamperedFile,
IdentityMismatch.

Options:
${VERIFY_HELP}
${COMMON_HELP}

Examples:
  arca verify payments/api-server@1.4.2 --key arca-store.pem
  arca verify payments/api-server@prod deploy/api.tar.gz --key arca-store.pem \\
    --repository org/payments --ref refs/heads/main
  ARCA_TRUSTED_KEYS=old.pem,new.pem arca verify payments/api-server@1.4.2 --json`,
  options: VERIFY_OPTIONS,
  run: async (ctx) => {
    const [refText, ...paths] = ctx.positionals;
    const ref = parseVersionRef(refText, '<version|stage>');
    const request = verifyRequestOf(ctx.values, ctx.env);
    const client = ctx.client();
    const version = await client.resolveVersion(ref);
    const locals: NamedDigest[] = await Promise.all(
      paths.map(async (path) => ({ name: path, sha256: await sha256OfFile(path) })),
    );
    // The warning is about trust, not progress: --quiet does not silence it.
    const warn = (line: string) => process.stderr.write(`arca verify: ${line}\n`);
    const { keyId, pinned } = await verifyVersion(client, version, request, locals, warn);
    if (ctx.json) {
      ctx.print(JSON.stringify({ verified: true, ...refOf(version), keyId, pinned, files: locals }, null, 2));
      return 0;
    }
    const identity = Object.entries(request.identity)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${name} ${value}`);
    ctx.print(
      [
        `verified: ${formatRef(version)} provenance signed by ${keyId} (${pinned ? 'pinned key' : 'store key, not pinned'})`,
        `${countOf(version.files.length, 'file')} the subjects`,
        ...(locals.length > 0 ? [`${countOf(locals.length, 'local file')}`] : []),
        ...identity,
      ].join(', '),
    );
    return 0;
  },
};

/** `1 file matches`, `2 files match`. */
const countOf = (n: number, noun: string) => `${n} ${noun}${n === 1 ? ' matches' : 's match'}`;

const refOf = (v: { namespace: string; package: string; version: string }) => ({
  namespace: v.namespace,
  package: v.package,
  version: v.version,
});
