/**
 * Writes an export's files as one new directory, all or nothing: into a
 * fresh sibling temporary directory first, renamed into place when complete.
 * An existing --output may only be an empty directory (never a link, never
 * one with files to lose); its parent must exist (never a mkdir -p).
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, WizardError } from '../errors.js';
import { fsError, isKnownFsError } from '../system/fserrors.js';
import type { ExportFile } from './layout.js';

const HINT = 'choose a new directory for --output (its parent must exist), or empty that one first';

/** Relative names only, each component plain: a write can never leave the directory. */
function parts(rel: string): string[] {
  const p = rel.split('/');
  if (!rel || rel.startsWith('/') || p.some((c) => !c || c === '.' || c === '..')) throw new InputError(`"${rel}" is not a file name inside the exported directory`, 'report this: the export produced an unexpected name');
  return p;
}

function outputError(err: unknown, where: string): Error {
  if (err instanceof WizardError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new WizardError(`no space left in ${where} to write the export (${code})`, { hint: 'free some space or choose another --output' });
  if (isKnownFsError(err)) {
    const e = fsError(err as NodeJS.ErrnoException, `writing the export into ${where}`);
    return new InputError(e.message, HINT);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Refuses an output it must not touch; true when it is an empty directory to replace. */
export async function checkExportOutput(target: string): Promise<boolean> {
  const parent = path.dirname(target);
  if (target === parent) throw new InputError('/ cannot be an export directory', HINT);
  const p = await stat(parent).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ENOTDIR' ? null : Promise.reject(outputError(err, parent))));
  if (!p) throw new InputError(`cannot write the export: ${parent} does not exist`, `create ${parent} first, or ${HINT}`);
  if (!p.isDirectory()) throw new InputError(`cannot write the export: ${parent} is not a directory`, HINT);
  const st = await lstat(target).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(outputError(err, parent))));
  if (!st) return false;
  if (!st.isDirectory()) throw new InputError(`${target} exists and is not a directory`, HINT);
  if ((await readdir(target)).length > 0) throw new InputError(`${target} exists and is not empty: refusing to write into it`, HINT);
  return true;
}

export async function writeExportDirectory(output: string, files: readonly ExportFile[]): Promise<string> {
  const target = path.resolve(output);
  const existing = await checkExportOutput(target);
  const parent = path.dirname(target);
  const tmp = await mkdtemp(`${target}.tmp-`).catch((err: unknown) => {
    throw outputError(err, parent);
  });
  try {
    const made = new Set<string>();
    for (const [rel, content] of files) {
      const p = parts(rel);
      for (let i = 1; i < p.length; i++) {
        const sub = p.slice(0, i).join('/');
        if (made.has(sub)) continue;
        await mkdir(path.join(tmp, sub), { mode: 0o755 });
        made.add(sub);
      }
      // "wx": the directory is new and ours; an existing name means two files collided.
      await writeFile(path.join(tmp, ...p), content, { flag: 'wx', mode: 0o644 });
    }
    // mkdtemp makes 0700: the directory is for a build, like any source tree.
    await chmod(tmp, 0o755);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw outputError(err, parent);
  }
  try {
    // rmdir, not rm -r: if files appeared in the empty target meanwhile, fail rather than delete them.
    if (existing) await rmdir(target);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new InputError(`${target} appeared or filled while the export was written: nothing was written`, HINT);
    throw outputError(err, parent);
  }
  return target;
}
