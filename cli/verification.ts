/**
 * What `arca verify` and `arca fetch --verify` share: the trusted keys (pinned or the store's), the
 * version's store provenance, local digests, and the options that name them. The checks themselves
 * are `provenance.ts`.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { DsseEnvelope } from '../functions/core/model.ts';
import { type ArcaClient, type Attestation, isNotFound, type Version } from './client.ts';
import { stringOption, type Values } from './command.ts';
import { UsageError } from './errors.ts';
import {
  type IdentityConstraints,
  isP256,
  keyIdOf,
  type NamedDigest,
  ProvenanceError,
  type Statement,
  type TrustedKey,
  verifyProvenance,
} from './provenance.ts';

/** The options of the verification, for commands that take them. */
export const VERIFY_OPTIONS = {
  key: { type: 'string', multiple: true },
  repository: { type: 'string' },
  ref: { type: 'string' },
} as const;

export const VERIFY_HELP = `  --key <pub.pem>        trust this public key (PEM; repeatable). Default: $ARCA_TRUSTED_KEYS
                         (comma-separated PEM paths), else the store's own /v1/keys (with a
                         warning: a key fetched from the store being verified is not pinned)
  --repository <org/x>   require the publisher's verified CI repository (trailing * = prefix)
  --ref <ref>            require the publisher's verified CI ref, e.g. refs/heads/main or refs/tags/*`;

export interface VerifyRequest {
  readonly keyPaths: readonly string[];
  readonly identity: IdentityConstraints;
}

export function verifyRequestOf(values: Values, env: NodeJS.ProcessEnv): VerifyRequest {
  const flags = Array.isArray(values['key']) ? values['key'] : [];
  const fromEnv = (env['ARCA_TRUSTED_KEYS'] ?? '')
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '');
  return {
    keyPaths: flags.length > 0 ? flags : fromEnv,
    identity: { repository: stringOption(values, 'repository'), ref: stringOption(values, 'ref') },
  };
}

export interface TrustedKeys {
  readonly keys: readonly TrustedKey[];
  /** False when the keys came from the store itself. */
  readonly pinned: boolean;
}

/** The pinned PEM files, else the store's keys (retired ones too) with `warn` saying so. */
export async function loadTrustedKeys(
  client: ArcaClient,
  request: VerifyRequest,
  warn: (line: string) => void,
): Promise<TrustedKeys> {
  if (request.keyPaths.length > 0) {
    return { keys: await Promise.all(request.keyPaths.map(readPemKey)), pinned: true };
  }
  warn(
    "warning: the signing key is not pinned: verifying with the store's own /v1/keys (pin it with --key or ARCA_TRUSTED_KEYS)",
  );
  const { keys } = await client.listKeys();
  return {
    keys: keys
      .filter((k) => k.algorithm === 'ECDSA_P256_SHA256')
      .map((k) => ({ key: createPublicKey(k.publicKeyPem), keyId: k.keyId, source: `store key ${k.keyId}` })),
    pinned: false,
  };
}

async function readPemKey(path: string): Promise<TrustedKey> {
  const pem = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`key ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new UsageError(`key ${path}: not a PEM public key`);
  }
  if (!isP256(key)) throw new UsageError(`key ${path}: not an ECDSA P-256 key`);
  return { key, keyId: keyIdOf(key), source: path };
}

/** The version's attestations; a store older than v1.1 has no such route (404): none. */
export async function attestationsOf(client: ArcaClient, version: Version): Promise<Attestation[]> {
  try {
    return (await client.listAttestations(version)).items;
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** The version's store provenance envelope, if it has one. */
async function storeProvenance(client: ArcaClient, version: Version): Promise<DsseEnvelope | undefined> {
  return (await attestationsOf(client, version)).find((item) => item.kind === 'provenance')?.envelope;
}

/** Streams a local file through sha256. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  return hash.digest('hex');
}

/** Fetches the provenance and keys and checks everything; throws a `ProvenanceError` (exit 4). */
export async function verifyVersion(
  client: ArcaClient,
  version: Version,
  request: VerifyRequest,
  locals: readonly NamedDigest[],
  warn: (line: string) => void,
): Promise<{ keyId: string; pinned: boolean; statement: Statement }> {
  const [envelope, trusted] = await Promise.all([
    storeProvenance(client, version),
    loadTrustedKeys(client, request, warn),
  ]);
  if (!envelope && version.state !== 'available') {
    throw new ProvenanceError(
      'MissingAttestation',
      `the version has no store provenance: it is ${version.state}, and the store signs available versions only`,
    );
  }
  const { keyId, statement } = verifyProvenance({
    envelope,
    keys: trusted.keys,
    files: version.files,
    locals,
    identity: request.identity,
  });
  return { keyId, pinned: trusted.pinned, statement };
}
