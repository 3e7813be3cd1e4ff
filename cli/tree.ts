import { lstat, mkdir, readdir } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileNameCollision, fileNameProblem, LIMITS } from '../functions/core/names.ts';
import { CliError, EXIT, UsageError } from './errors.ts';

/** A file to publish: where it is on disk and the name it takes in the version. */
export interface TreeEntry {
  readonly path: string;
  readonly name: string;
}

/**
 * What `arca publish` sends for its arguments: a file is named by its basename; a directory
 * contributes every regular file under it, named by the directory's own name and the path below it
 * (`dist/js/app.js`), with `/` whatever the platform. A symlink or any other non-regular entry is
 * refused rather than followed: a version holds exactly the tree as it is on disk.
 */
export async function expandPaths(paths: readonly string[]): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  for (const path of paths) {
    const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(
        `${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`,
      );
    });
    if (info.isDirectory()) {
      const root = resolve(path);
      await walk(root, basename(root), entries);
    } else {
      entries.push({ path, name: basename(path) });
    }
    if (entries.length > LIMITS.filesPerVersion)
      throw new UsageError(`more than ${LIMITS.filesPerVersion} files: a version holds at most that many`);
  }
  for (const entry of entries) requireFileName(entry.name, entry.path);
  const collision = fileNameCollision(entries.map((e) => e.name));
  if (collision) {
    throw new UsageError(
      collision.name === collision.with
        ? `two files are named ${collision.name}: names in a version must be unique`
        : `${collision.name} needs ${collision.with} as a directory, but ${collision.with} is a file`,
    );
  }
  return entries;
}

async function walk(dir: string, name: string, into: TreeEntry[]): Promise<void> {
  const children = await readdir(dir, { withFileTypes: true });
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) {
    const path = join(dir, child.name);
    const childName = `${name}/${child.name}`;
    if (child.isDirectory()) await walk(path, childName, into);
    else if (child.isFile()) into.push({ path, name: childName });
    else throw new UsageError(`${path}: not a regular file or directory (symlinks are not followed)`);
    if (into.length > LIMITS.filesPerVersion)
      throw new UsageError(`more than ${LIMITS.filesPerVersion} files: a version holds at most that many`);
  }
}

export function requireFileName(name: string, path = name): void {
  const problem = fileNameProblem(name);
  if (problem) throw new UsageError(`${path}: ${JSON.stringify(name)} is not a valid file name (${problem})`);
}

/**
 * Where `names` go under `dir`, checked before a single byte is written: each must be a valid
 * relative name that resolves inside `dir` (no `..`, no absolute path, no backslash), no two may
 * collide, and no directory on the way may be an existing symlink or file (a link planted in the
 * output directory must not carry a write outside it). Creates the directories; answers the targets.
 */
export async function prepareTree(dir: string, names: readonly string[]): Promise<Map<string, string>> {
  const root = resolve(dir);
  const targets = new Map<string, string>();
  for (const name of names) {
    const problem = fileNameProblem(name);
    const target = resolve(root, name);
    if (problem || !target.startsWith(root + sep) || relative(root, target).split(sep).includes('..')) {
      throw new CliError(
        EXIT.integrity,
        `refusing to write ${JSON.stringify(name)}: it is not a path inside ${root}${problem ? ` (${problem})` : ''}`,
        'UnsafeName',
      );
    }
    targets.set(name, target);
  }
  const collision = fileNameCollision(names);
  if (collision) {
    throw new CliError(
      EXIT.integrity,
      `refusing to write ${collision.name}: it collides with ${collision.with}`,
      'UnsafeName',
    );
  }
  const dirs = new Set<string>();
  for (const target of targets.values()) {
    for (let d = dirname(target); d !== root && d.startsWith(root + sep); d = dirname(d)) dirs.add(d);
  }
  for (const d of [...dirs].sort()) {
    const info = await lstat(d).catch(() => null);
    if (info && !info.isDirectory()) {
      throw new CliError(
        EXIT.integrity,
        `refusing to write under ${d}: it exists and is not a directory${info.isSymbolicLink() ? ' (a symlink)' : ''}`,
        'UnsafeName',
      );
    }
  }
  await mkdir(root, { recursive: true });
  for (const d of [...dirs].sort()) await mkdir(d, { recursive: true });
  return targets;
}
