/**
 * Writes a new directory of files, all or nothing: `snapshot --output DIR`
 * and `export --output DIR`. The files go into a fresh sibling temporary
 * directory (mkdtemp) and it is renamed into place when complete, so an
 * interrupted write never leaves half a directory under the requested name
 * and a failed one leaves nothing at all. An existing output may only be an
 * empty real directory (never a link, never one with files to lose), and its
 * parent must already be a directory: never a `mkdir -p` (that looped forever
 * under /proc).
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, WizardError } from '../errors.js';
import { fsError, isKnownFsError } from './fserrors.js';

export interface NewDirectory {
  /** What is written, in messages: "snapshot", "export". */
  noun: string;
  /** Where the noun's directory's names come from, for the refusal of a name that would leave it. */
  badName: (rel: string) => InputError;
  /** The most levels a name may have. */
  maxDepth?: number;
  /** Mode of each file, and of the directory once complete (mkdtemp makes 0700). */
  fileMode?: number;
  dirMode?: number;
}

/** Relative names only, each component plain: a write can never leave the directory. */
export function plainParts(rel: string, o: Pick<NewDirectory, 'badName' | 'maxDepth'>): string[] {
  const parts = rel.split('/');
  if (!rel || parts.some((p) => !p || p === '.' || p === '..') || parts.length > (o.maxDepth ?? Infinity)) throw o.badName(rel);
  return parts;
}

/** A failure to create or fill the output (`made`: the directory, unless said), in words, with what to do. */
export function outputError(err: unknown, where: string, noun: string, made = `the ${noun} directory`): Error {
  if (err instanceof InputError || err instanceof WizardError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hint = 'choose another --output (a directory you can write, on a normal filesystem)';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new InputError(`cannot create ${made} in ${where}: permission denied (${code})`, hint);
    case 'EROFS':
      return new InputError(`cannot create ${made} in ${where}: read-only filesystem`, hint);
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EINVAL':
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
      // procfs, sysfs and their kin refuse new directories even where the parent exists.
      return new InputError(`cannot create ${made} in ${where}: that filesystem does not hold new files (${code})`, hint);
    case 'ENOSPC':
    case 'EDQUOT':
      return new WizardError(`no space left in ${where} to write the ${noun} (${code})`, { hint: 'free some space or choose another --output' });
    default:
      return isKnownFsError(err) ? fsError(err, `writing the ${noun} into ${where}`) : err instanceof Error ? err : new Error(String(err));
  }
}

/** The output's parent must already be a directory. */
export async function checkOutputParent(parent: string, noun: string): Promise<void> {
  const st = await stat(parent).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    if (err.code === 'ENOTDIR') return 'notdir' as const;
    throw outputError(err, parent, noun);
  });
  if (st === null) throw new InputError(`cannot write the ${noun}: ${parent} does not exist`, `create ${parent} first, or choose another --output`);
  if (st === 'notdir' || !st.isDirectory()) throw new InputError(`cannot write the ${noun}: ${parent} is not a directory`, 'choose another --output');
}

/** Refuses an output it must not touch; true when it is an empty directory to replace. */
export async function checkNewDirectory(target: string, noun: string): Promise<boolean> {
  const parent = path.dirname(target);
  if (target === parent) throw new InputError(`/ cannot be the ${noun} directory`, 'choose another --output');
  await checkOutputParent(parent, noun);
  const st = await lstat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw outputError(err, parent, noun);
  });
  if (!st) return false;
  if (!st.isDirectory()) throw new InputError(`${target} exists and is not a directory`, 'choose another --output');
  if ((await readdir(target)).length > 0) throw new InputError(`${target} exists and is not empty: refusing to write into it`, 'choose a new directory for --output, or remove it first');
  return true;
}

/** Writes `files` (name → content) as the new directory `output`; returns its absolute path. */
export async function writeNewDirectory(output: string, files: ReadonlyArray<readonly [string, string | Buffer]>, o: NewDirectory): Promise<string> {
  const target = path.resolve(output);
  // Every name is checked before anything is created.
  const named = files.map(([rel, content]) => [plainParts(rel, o), content] as const);
  const existing = await checkNewDirectory(target, o.noun);
  const parent = path.dirname(target);
  const tmp = await mkdtemp(`${target}.tmp-`).catch((err: unknown) => {
    throw outputError(err, parent, o.noun);
  });
  try {
    const made = new Set<string>();
    for (const [parts, content] of named) {
      for (let i = 1; i < parts.length; i++) {
        const sub = parts.slice(0, i).join('/');
        if (made.has(sub)) continue;
        await mkdir(path.join(tmp, sub), { mode: 0o755 });
        made.add(sub);
      }
      // "wx": the directory is new and ours; an existing name means two files collided.
      await writeFile(path.join(tmp, ...parts), content, { flag: 'wx', ...(o.fileMode !== undefined ? { mode: o.fileMode } : {}) });
    }
    if (o.dirMode !== undefined) await chmod(tmp, o.dirMode);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw outputError(err, parent, o.noun);
  }
  try {
    // rmdir, not rm -r: if files appeared in the empty target meanwhile, fail rather than delete them.
    if (existing) await rmdir(target);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new InputError(`${target} appeared or filled while the ${o.noun} was written: nothing was written`, 'choose a new directory for --output, or remove it first');
    throw outputError(err, parent, o.noun);
  }
  return target;
}
