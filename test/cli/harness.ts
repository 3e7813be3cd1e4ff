import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scannersFromEnv } from '../../functions/adapters/scanEngines.ts';
import type { Principal } from '../../functions/core/model.ts';
import { ADMIN_PRINCIPAL, bearerAuthenticator } from '../../functions/local/auth.ts';
import { createEmbeddedBackend } from '../../functions/local/embeddedBackend.ts';
import { startLocalServer } from '../../functions/local/server.ts';
import type { StorageFaults } from '../../functions/local/storageEndpoint.ts';
import { startMotoBackend } from './awsBackend.ts';

const BIN = fileURLToPath(new URL('../../bin/arca.js', import.meta.url));
const MiB = 1024 * 1024;

/** `ARCA_CLI_TEST_BACKEND=aws` runs the suite on the AWS adapters against moto; default embedded. */
export const BACKEND: 'embedded' | 'aws' =
  process.env['ARCA_CLI_TEST_BACKEND'] === 'aws' ? 'aws' : 'embedded';
/** One multipart part: 1 MiB on embedded (set below), the S3 store's 16 MiB minimum on aws. */
export const PART_SIZE = BACKEND === 'aws' ? 16 * MiB : MiB;

/** A token that may only read the `demo` namespace: publishing with it is forbidden. */
export const READER_TOKEN = 'reader-token';
const READER: Principal = { id: 'reader', kind: 'token', admin: false, roles: { demo: ['read'] } };

/** A CI job's OIDC identity as the store records it (claims already verified): it may publish to `demo`. */
export const CI_TOKEN = 'ci-oidc-token';
export const CI_CLAIMS = {
  iss: 'https://token.actions.githubusercontent.com',
  repository: 'org/payments',
  ref: 'refs/heads/main',
  workflow: 'release',
  sha: '9f1c0ffee0000000000000000000000000000000',
} as const;
const CI: Principal = {
  id: 'oidc:https://token.actions.githubusercontent.com#repo:org/payments:ref:refs/heads/main',
  kind: 'oidc',
  admin: false,
  roles: { demo: ['read', 'write'] },
  claims: CI_CLAIMS,
};

export interface TestStore {
  readonly url: string;
  readonly token: string;
  readonly dataDir: string;
  /** Status of every upload PUT storage answered, in order (the embedded endpoint, or S3 on aws). */
  readonly storagePuts: number[];
  /** Flips a byte of a stored blob behind Arca's back (the data-dir file, or the S3 object). */
  tamper(sha256: string): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  readonly faults?: StorageFaults;
  /** Scan engine settings (`ARCA_CLAMD`, `ARCA_OSV_DB`), as an operator sets them. */
  readonly scanEnv?: Readonly<Record<string, string>>;
}

/**
 * Starts Arca in-process on a free port with a temp data dir and a small multipart threshold
 * (1 MiB, so a few-MiB file goes up in 1 MiB parts).
 */
export async function startStore(options: StoreOptions = {}): Promise<TestStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'arca-cli-'));
  const token = `admin-${randomBytes(8).toString('hex')}`;
  const storagePuts: number[] = [];
  const moto =
    BACKEND === 'aws'
      ? await startMotoBackend(PART_SIZE, options.faults?.failPartPuts, options.scanEnv)
      : undefined;
  const server = await startLocalServer({
    port: 0,
    authenticate: bearerAuthenticator(
      new Map([
        [token, ADMIN_PRINCIPAL],
        [READER_TOKEN, READER],
        [CI_TOKEN, CI],
      ]),
    ),
    log: (line) => {
      if (line['method'] === 'PUT' && String(line['path']).startsWith('/storage/upload')) {
        storagePuts.push(line['status'] as number);
      }
    },
    backend: async (publicUrl) =>
      moto
        ? moto.backend()
        : createEmbeddedBackend({
            dataDir,
            publicUrl,
            multipartThreshold: MiB,
            partSize: MiB,
            faults: options.faults,
            ...(options.scanEnv ? { scanners: scannersFromEnv(options.scanEnv) } : {}),
          }),
  });
  return {
    url: server.url,
    token,
    dataDir,
    storagePuts: moto ? moto.stagingPuts : storagePuts,
    tamper: moto
      ? moto.tamper
      : (sha256) => tamperFile(join(dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256)),
    close: async () => {
      await server.close();
      await moto?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bin/arca.js` as a child process against `store`, with fast retries. */
export function arca(
  store: Pick<TestStore, 'url' | 'token'>,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        ARCA_URL: store.url,
        ARCA_TOKEN: store.token,
        ARCA_RETRY_DELAY_MS: '20',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Publishes and waits for the scan; throws with the CLI's output unless it exits 0. */
export async function publishOk(store: TestStore, ref: string, paths: readonly string[]): Promise<void> {
  const result = await arca(store, ['publish', ref, ...paths, '--wait']);
  if (result.code !== 0) throw new Error(`publish ${ref} exited ${result.code}: ${result.stderr}`);
}

export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
export { MiB };

async function tamperFile(path: string): Promise<void> {
  const bytes = await readFile(path);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
  await writeFile(path, bytes);
}
