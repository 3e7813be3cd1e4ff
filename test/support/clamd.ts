import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EICAR } from './archives.ts';

/**
 * A real clamd (Debian's `clamav-daemon`, installed by .ci/run when missing) started for one test
 * file with a temporary config and a signature database the test writes: test-only patterns and
 * EICAR, never a downloaded database.
 */

export const CLAMD_BINARY = '/usr/sbin/clamd';

/** Bytes no real file contains; the .ndb signature `Arca.Test.Pattern` matches them anywhere. */
export const TEST_PATTERN = 'ARCA-TEST-ONLY-MALWARE-PATTERN-7f3c2a91';
/** A whole file the .hdb signature `Arca.Test.WholeFile` matches by its MD5 and size. */
export const TEST_WHOLE_FILE = Buffer.from('arca test-only whole-file signature\n'.repeat(7));

const hex = (text: string) => Buffer.from(text, 'latin1').toString('hex');

export interface Clamd {
  /** `unix:/…/clamd.sock`, as ARCA_CLAMD takes it. */
  readonly address: string;
  readonly socketPath: string;
  /** The signature database it loaded (clamscan -d takes it too). */
  readonly databaseDir: string;
  /** Stops clamd, keeping its config and database: its address is unreachable until `resume`. */
  pause(): Promise<void>;
  /** Starts it again at the same address. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startClamd(): Promise<Clamd> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-clamd-'));
  const socketPath = join(dir, 'clamd.sock');
  await writeFile(
    join(dir, 'arca-test.ndb'),
    [`Arca.Test.Pattern:0:*:${hex(TEST_PATTERN)}`, `Arca.Test.EICAR:0:0:${hex(EICAR)}`, ''].join('\n'),
  );
  const md5 = createHash('md5').update(TEST_WHOLE_FILE).digest('hex');
  await writeFile(join(dir, 'arca-test.hdb'), `${md5}:${TEST_WHOLE_FILE.length}:Arca.Test.WholeFile\n`);
  await writeFile(
    join(dir, 'clamd.conf'),
    [
      `LocalSocket ${socketPath}`,
      'Foreground yes',
      `DatabaseDirectory ${dir}`,
      `LogFile ${join(dir, 'clamd.log')}`,
      'StreamMaxLength 64M',
      'MaxThreads 4',
      '',
    ].join('\n'),
  );
  let child = await spawnClamd(dir, socketPath);
  return {
    address: `unix:${socketPath}`,
    socketPath,
    databaseDir: dir,
    pause: async () => {
      await child.stop();
      await rm(socketPath, { force: true }); // no stale socket for the restart to trip over
    },
    resume: async () => {
      child = await spawnClamd(dir, socketPath);
    },
    stop: async () => {
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts clamd on the config in `dir` and waits until its socket answers connections. */
async function spawnClamd(dir: string, socketPath: string): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(CLAMD_BINARY, ['-c', join(dir, 'clamd.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (existsSync(socketPath) && (await stat(socketPath)).isSocket()) break;
    if (child.exitCode !== null || i > 600)
      throw new Error(`clamd did not start; see ${join(dir, 'clamd.log')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
