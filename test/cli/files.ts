import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp directory of input files for one suite. */
export interface Workdir {
  readonly path: string;
  /** Writes `content` (or `size` random bytes) to `name` and returns its path. */
  file(name: string, content: string | Buffer | number): Promise<string>;
  remove(): Promise<void>;
}

export async function workdir(): Promise<Workdir> {
  const path = await mkdtemp(join(tmpdir(), 'arca-cli-in-'));
  return {
    path,
    file: async (name, content) => {
      const target = join(path, name);
      await writeFile(target, typeof content === 'number' ? randomBytes(content) : content);
      return target;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
