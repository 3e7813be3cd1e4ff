import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * ClamAV inside the container-image scan Lambda (infra/clamav/Dockerfile): definitions live in a
 * bucket the freshclam function refreshes on a schedule; each scan instance copies them to /tmp at
 * cold start and runs its own clamd on a Unix socket there. Nothing is baked into the image, so a
 * new database needs no deploy.
 */

/**
 * What ClamAV's database is made of: the official containers (`cvd`, `cld`, `cud`) and an operator's
 * own signature files (hash, body, logical, YARA; ignore and allow lists) put beside them.
 */
const DEFINITION_FILE = /^[a-z0-9._-]+\.(cvd|cld|cud|hdb|hsb|mdb|msb|ndb|ldb|yar|yara|ign2|fp|sfp)$/i;

export interface ClamdInLambda {
  /** `unix:/tmp/clamd.sock`, as ARCA_CLAMD takes it. */
  readonly address: string;
  readonly process: ChildProcess;
}

/** Copies every definition file of `bucket` into `dir`; answers how many there were. */
export async function downloadDefinitions(s3: S3Client, bucket: string, dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const keys = (listed.Contents ?? []).map((o) => o.Key ?? '').filter((key) => DEFINITION_FILE.test(key));
  for (const key of keys) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await writeFile(join(dir, key), await object.Body!.transformToByteArray());
  }
  return keys.length;
}

/** Uploads every definition file of `dir` to `bucket`; answers their names. */
export async function uploadDefinitions(s3: S3Client, bucket: string, dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => DEFINITION_FILE.test(name));
  for (const name of names) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: name, Body: await readFile(join(dir, name)) }));
  }
  return names;
}

/**
 * Starts clamd on the definitions in `dir` and waits for its socket. A bucket without definitions
 * fails here (the scan then fails and is retried) rather than running a clamd that knows nothing.
 */
export async function startClamd(
  dir: string,
  options: { readonly socket?: string; readonly waitMs?: number; readonly binary?: string } = {},
): Promise<ClamdInLambda> {
  if (!(await readdir(dir)).some((name) => DEFINITION_FILE.test(name)))
    throw new Error(`no ClamAV definitions in ${dir}: has the freshclam function run yet?`);
  const socket = options.socket ?? '/tmp/clamd.sock';
  const config = join(dir, 'clamd.conf');
  await writeFile(
    config,
    [
      `LocalSocket ${socket}`,
      'Foreground yes',
      `DatabaseDirectory ${dir}`,
      // No LogFile: in the foreground clamd writes to stderr, which Lambda sends to CloudWatch.
      // The scan streams whole files: clamd must read as much as Arca accepts (its ceiling is 4 GB).
      'StreamMaxLength 4000M',
      'MaxThreads 4',
      '',
    ].join('\n'),
  );
  const child = spawn(options.binary ?? 'clamd', ['-c', config], { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  while (!existsSync(socket)) {
    if (child.exitCode !== null)
      throw new Error(`clamd exited with ${child.exitCode} while loading definitions`);
    if (Date.now() > deadline) throw new Error('clamd did not open its socket in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { address: `unix:${socket}`, process: child };
}

/**
 * Runs freshclam into `dir` (holding the bucket's current files, so it downloads only differences)
 * against ClamAV's mirror. Its exit code 1 means "already up to date".
 */
export async function runFreshclam(dir: string): Promise<void> {
  const config = join(dir, 'freshclam.conf');
  await writeFile(config, [`DatabaseDirectory ${dir}`, 'DatabaseMirror database.clamav.net', ''].join('\n'));
  try {
    await promisify(execFile)('freshclam', [`--config-file=${config}`, '--stdout'], { maxBuffer: 1 << 24 });
  } catch (error) {
    if ((error as { code?: number }).code !== 1) throw error;
  }
}
