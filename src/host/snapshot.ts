/**
 * A snapshot is a directory of raw probe outputs (docs/snapshot-format.md).
 * In memory it is a map from file name to content, so a live capture and a
 * recorded directory look the same to the analyzer.
 *
 * Snapshots come from other machines (bug reports) and are untrusted. Loading
 * reads only through the rooted primitives (src/system/rooted.ts), which never
 * follow a link; only the files the format names are read, each checked with
 * lstat before a byte is read, so a link, a FIFO, a device or a sparse giant
 * is refused at once (exit 2) instead of leaking, hanging or filling memory.
 *
 * What is refused (InputError, exit 2) and what is ignored:
 * - snapshot.json: any problem is a refusal (missing, not a regular file,
 *   too large, not JSON, not a header): without it nothing else is trusted.
 * - a probe file the format names (lsblk.json, fstab, luks/*, sys-block/* …)
 *   that is not a regular file, or is larger than LIMITS.snapshotFileBytes:
 *   refused. Such a file is never written by `snapshot`, so the directory was
 *   tampered with or is not a snapshot, and guessing past it could hide a layer.
 * - all probe files together over LIMITS.snapshotTotalBytes, or more than
 *   LIMITS.snapshotFiles entries: refused.
 * - a probe file that cannot be opened for another reason (EACCES): ignored
 *   with a warning, as if the probe had not run (the analyzer then says what
 *   that leaves unknown).
 * - unknown names (scenario.json, notes, anything): tolerated as the format
 *   requires, and never opened whatever they are; only counted.
 * - probe content that does not parse: the analyzer's call (a warning, or
 *   "cannot tell" when the walk to the disks needs it).
 */
import { lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { InputError, WizardError } from '../errors.js';
import { formatBytes, LIMITS } from '../limits.js';
import { kindOf, openChildDir, openRootDir, readEntry, NotRegularFileError, TooLargeError, UnsafePathError, type DirHandle } from '../system/rooted.js';
import { parseJsonText } from './parse/json.js';
import { inParallel } from '../parallel.js';
import { quoteForMessage } from './parse/text.js';

export const SNAPSHOT_FORMAT = 1;

export interface SnapshotMeta {
  format: number;
  captured: string;
  kernel: string;
  arch: string;
  capturedBy: string;
}

export interface ProbeError {
  probe: string;
  command: string;
  exitCode: number | null;
  stderr: string;
}

export interface Snapshot {
  /** Where it was read from; null for a live capture held in memory. */
  dir: string | null;
  meta: SnapshotMeta;
  files: Map<string, string>;
  errors: ProbeError[];
  /** Problems found while loading (unknown format, unreadable files). */
  warnings: string[];
}

/** Header strings are shown to people: short, one line, no terminal control. */
const headerText = z
  .string()
  .max(256)
  .regex(/^[^\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/u, 'must be one line of printable text');

const metaSchema = z.object({
  format: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  captured: headerText.default(''),
  kernel: headerText.default(''),
  arch: headerText.default(''),
  capturedBy: headerText.default('unknown'),
});

const errorsSchema = z.array(
  z.object({
    probe: z.string(),
    command: z.string().default(''),
    exitCode: z.number().nullable().default(null),
    stderr: z.string().default(''),
  }),
);

const RECAPTURE = 'capture the snapshot again with `initrd-wizard snapshot --output DIR`';

/** Top-level files the format names (plus vconsole.conf, which capture adds), and the directories of per-device files. */
const PROBE_FILES = new Set([
  'os-release', 'cmdline', 'kernel-cmdline', 'lsblk.json', 'findmnt.json', 'fstab', 'crypttab', 'swaps', 'sys-power-resume',
  'mdstat', 'mdadm-detail-scan', 'mdadm.conf', 'lvm-fullreport.json', 'dmsetup-table', 'dmsetup-info', 'modules',
  'kernel-install.txt', 'install.conf', 'errors.json', 'vconsole.conf',
]);
const PROBE_DIRS = new Set(['luks', 'sys-block']);

/** A snapshot-relative name is a probe this tool reads: a named top-level file, or a file directly under luks/ or sys-block/. */
function isProbe(rel: string): boolean {
  const parts = rel.split('/');
  if (parts.length === 1) return PROBE_FILES.has(rel);
  return parts.length === 2 && PROBE_DIRS.has(parts[0]!);
}


/** A file of the snapshot in a message: its name came from another machine, so escapes are shown, not sent. */
function shownPath(dir: string, rel: string): string {
  return path.join(dir, quoteForMessage(rel, 120));
}

/** Refuses a probe that is not a regular file: a link is never followed, a FIFO would hang, a device would never end. */
function notRegular(shown: string, st: Stats): InputError {
  const message = `${shown} is ${kindOf(st)}, not a regular file: snapshots hold only regular files`;
  const hint = `remove it or ${RECAPTURE}`;
  return st.isSymbolicLink() ? new UnsafePathError(message, hint) : new NotRegularFileError(message, hint);
}

interface ProbeFile {
  rel: string;
  /** The open directory holding it, and its name there. */
  parent: DirHandle;
  name: string;
  size: number;
}

/**
 * Every probe file of the snapshot with its size, from lstat alone: nothing
 * is opened yet, so the caps below refuse a 60 MB sparse file or a million
 * entries before any memory is spent on them. Directories are entered through
 * open handles (never a path resolved again), and each one opened is added
 * to `opened` for the caller to close.
 */
async function surveyProbes(dir: string, top: DirHandle, opened: DirHandle[]): Promise<ProbeFile[]> {
  const found: ProbeFile[] = [];
  let entries = 0;
  let total = 0;
  const walk = async (here: DirHandle, rel: string, depth: number) => {
    if (depth > LIMITS.snapshotDepth) {
      throw new TooLargeError(`${path.join(dir, rel)} is nested more than ${LIMITS.snapshotDepth} directories deep`, `this is not a snapshot; ${RECAPTURE}`);
    }
    const list = await readdir(here.self);
    entries += list.length;
    if (entries > LIMITS.snapshotFiles) {
      throw new TooLargeError(`${dir} holds more than ${LIMITS.snapshotFiles} entries; a snapshot holds a few hundred`, `check that it is a snapshot directory; ${RECAPTURE}`);
    }
    for (const name of list) {
      const child = rel ? `${rel}/${name}` : name;
      const probe = isProbe(child);
      // Unknown names are never opened, whatever they are; only the two per-device directories are entered.
      if (!probe && !(rel === '' && PROBE_DIRS.has(name))) continue;
      const st = await lstat(here.entry(name)).catch(() => null);
      if (!st) continue; // removed while we looked: as if absent
      if (!probe) {
        if (!st.isDirectory()) continue;
        const sub = await openChildDir(dir, here, name);
        if (!sub) continue;
        opened.push(sub);
        await walk(sub, child, depth + 1);
        continue;
      }
      const shown = shownPath(dir, child);
      if (!st.isFile()) throw notRegular(shown, st);
      if (st.size > LIMITS.snapshotFileBytes) {
        throw new TooLargeError(
          `${shown} is ${formatBytes(st.size)}, more than the ${formatBytes(LIMITS.snapshotFileBytes)} accepted for a snapshot probe output`,
          `real probe outputs are far smaller: remove that file or ${RECAPTURE}`,
        );
      }
      total += st.size;
      if (total > LIMITS.snapshotTotalBytes) {
        throw new TooLargeError(`the probe files in ${dir} add up to more than ${formatBytes(LIMITS.snapshotTotalBytes)}; real snapshots hold under 1 MiB`, `check that it is a snapshot directory; ${RECAPTURE}`);
      }
      found.push({ rel: child, parent: here, name, size: st.size });
    }
  };
  await walk(top, '', 0);
  return found;
}

/**
 * The header, or a refusal: without a valid snapshot.json nothing else in
 * the directory is trusted. Checked with lstat before it is opened, like
 * every probe: opening a device node can have effects of its own (a watchdog
 * starts counting), so only a regular file is ever opened.
 */
async function readMeta(dir: string, top: DirHandle): Promise<SnapshotMeta> {
  const metaPath = path.join(dir, 'snapshot.json');
  const st = await lstat(top.entry('snapshot.json')).catch(() => null);
  if (!st) throw new InputError(`${metaPath} is missing: ${dir} is not a snapshot`, 'capture one with `initrd-wizard snapshot --output DIR`');
  if (!st.isFile()) throw notRegular(metaPath, st);
  if (st.size > LIMITS.snapshotFileBytes) {
    throw new TooLargeError(`${metaPath} is ${formatBytes(st.size)}, more than the ${formatBytes(LIMITS.snapshotFileBytes)} accepted for a snapshot header`, 'capture the snapshot again');
  }
  const read = await readEntry(dir, top, 'snapshot.json', { maxBytes: st.size, what: 'snapshot.json when it was listed (it changed while being read)' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') throw notRegular(metaPath, st); // swapped for a link in between: still never followed
    throw err;
  });
  if (!read) throw new InputError(`${metaPath} is missing: ${dir} is not a snapshot`, 'capture one with `initrd-wizard snapshot --output DIR`');
  // The parse error never quotes the file: it could be anything (it was /etc/shadow once).
  const json = parseJsonText(read.data.toString('utf8'));
  if (!json.ok) throw new InputError(`${metaPath} is ${json.error}`, 'capture the snapshot again');
  const meta = metaSchema.safeParse(json.value);
  if (!meta.success) {
    const issue = meta.error.issues[0];
    throw new InputError(
      `${metaPath} is not a snapshot header: ${issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'invalid'}`,
      'capture the snapshot again',
    );
  }
  return meta.data;
}

/** errors.json, or a warning: it only explains absent files, so a broken one costs nothing but the explanation. */
function probeErrors(text: string | undefined, dir: string, warnings: string[]): ProbeError[] {
  if (text === undefined) return [];
  const where = path.join(dir, 'errors.json');
  const json = parseJsonText(text);
  if (!json.ok) {
    warnings.push(`${where}: ${json.error}, ignored`);
    return [];
  }
  const r = errorsSchema.safeParse(json.value);
  if (r.success) return r.data;
  warnings.push(`${where}: not a list of probe errors, ignored`);
  return [];
}

export async function loadSnapshot(dir: string): Promise<Snapshot> {
  // The directory the user names may be reached through links (their choice); nothing inside it is.
  const info = await stat(dir).catch(() => null);
  if (!info) throw new InputError(`snapshot directory ${dir} does not exist`, 'pass the directory written by `initrd-wizard snapshot --output DIR`');
  if (!info.isDirectory()) throw new InputError(`${dir} is not a directory`, 'pass the directory written by `initrd-wizard snapshot --output DIR`');

  const top = await openRootDir(dir).catch((err: unknown) => {
    throw unreadable(dir, err);
  });
  const opened: DirHandle[] = [top];
  try {
    const meta = await readMeta(dir, top);
    const warnings: string[] = [];
    if (meta.format > SNAPSHOT_FORMAT) {
      warnings.push(`snapshot format ${meta.format} is newer than this tool's (${SNAPSHOT_FORMAT}): reading the files it knows`);
    }
    const probes = await surveyProbes(dir, top, opened);
    const contents = await inParallel(probes, READ_CONCURRENCY, (p) => readProbe(dir, p, warnings));
    const files = new Map<string, string>();
    probes.forEach((p, i) => {
      const text = contents[i];
      if (text !== null && text !== undefined) files.set(p.rel, text);
    });
    const errors = probeErrors(files.get('errors.json'), dir, warnings);
    return { dir, meta, files, errors, warnings };
  } catch (err) {
    throw unreadable(dir, err);
  } finally {
    await Promise.all(opened.map((d) => d.close()));
  }
}

/** A directory of the snapshot this user may not list or enter: say so (exit 2) instead of an internal error. */
function unreadable(dir: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof InputError || (code !== 'EACCES' && code !== 'EPERM')) return err;
  return new InputError(`cannot read the snapshot in ${dir}: permission denied (${code})`, 'run as a user who can read it, or copy it somewhere readable');
}

/** Reads in flight at once: the fs thread pool has four threads, and snapshots have a few dozen files. */
const READ_CONCURRENCY = 8;


/**
 * One probe file, read from its open directory without following a link. The
 * cap is the size lstat saw, so the per-file and total limits checked on those
 * sizes still hold if a file grows in between (it is refused instead). Null
 * when it vanished or cannot be opened (a warning says which).
 */
async function readProbe(dir: string, probe: ProbeFile, warnings: string[]): Promise<string | null> {
  const shown = shownPath(dir, probe.rel);
  try {
    const r = await readEntry(dir, probe.parent, probe.name, { maxBytes: probe.size, what: 'this probe file when it was listed (it changed while being read)' });
    return r === null ? null : r.data.toString('utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    // Swapped for a link since the survey: refused like any link, never followed.
    if (code === 'ELOOP') throw new UnsafePathError(`${shown} is a symlink, not a regular file: snapshots hold only regular files`, `remove it or ${RECAPTURE}`);
    warnings.push(`${shown}: unreadable (${code}), ignored`);
    return null;
  }
}

/** Relative names inside a snapshot: plain components only, so a write can never leave the directory. */
function safeParts(rel: string): string[] {
  const parts = rel.split('/');
  if (!rel || parts.some((p) => !p || p === '.' || p === '..') || parts.length > LIMITS.snapshotDepth) {
    throw new InputError(`"${quoteForMessage(rel)}" is not a file name inside a snapshot`, 'report this: capture produced an unexpected probe name');
  }
  return parts;
}

/** A clear error for a failure to create or fill the output directory. */
function outputError(err: unknown, where: string): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hint = 'choose another --output (a directory you can write, on a normal filesystem)';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new InputError(`cannot create the snapshot directory in ${where}: permission denied (${code})`, hint);
    case 'EROFS':
      return new InputError(`cannot create the snapshot directory in ${where}: read-only filesystem`, hint);
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EINVAL':
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
      // procfs, sysfs and their kin refuse new directories even where the parent exists.
      return new InputError(`cannot create the snapshot directory in ${where}: that filesystem does not hold new directories (${code})`, hint);
    case 'ENOSPC':
    case 'EDQUOT':
      return new WizardError(`no space left in ${where} to write the snapshot (${code})`, { hint: 'free some space or choose another --output' });
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

/** The output's parent must already be a directory: never a `mkdir -p` (that looped forever under /proc). */
async function checkParent(parent: string): Promise<void> {
  const st = await stat(parent).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    if (err.code === 'ENOTDIR') return 'notdir' as const;
    throw outputError(err, parent);
  });
  if (st === null) throw new InputError(`cannot write the snapshot: ${parent} does not exist`, `create ${parent} first, or choose another --output`);
  if (st === 'notdir' || !st.isDirectory()) throw new InputError(`cannot write the snapshot: ${parent} is not a directory`, 'choose another --output');
}

/** An existing output may only be an empty real directory (never a link, never one with files to lose). */
async function checkTarget(target: string): Promise<boolean> {
  const st = await lstat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw outputError(err, path.dirname(target));
  });
  if (!st) return false;
  if (!st.isDirectory()) throw new InputError(`${target} exists and is not a directory`, 'choose another --output');
  if ((await readdir(target)).length > 0) throw new InputError(`${target} exists and is not empty`, 'choose a new directory for --output, or remove it first');
  return true;
}

/** Writes every file into a fresh directory, creating subdirectories one level at a time. */
async function fill(tmp: string, snapshot: Snapshot): Promise<void> {
  const made = new Set<string>();
  const put = async (rel: string, content: string) => {
    const parts = safeParts(rel);
    for (let i = 1; i < parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      if (made.has(sub)) continue;
      await mkdir(path.join(tmp, sub), { mode: 0o755 });
      made.add(sub);
    }
    // "wx": the directory is new and ours; an existing name means two entries collided.
    await writeFile(path.join(tmp, ...parts), content, { flag: 'wx' });
  };
  await put('snapshot.json', JSON.stringify(snapshot.meta, null, 2) + '\n');
  for (const [rel, content] of snapshot.files) {
    if (rel === 'errors.json' || rel === 'snapshot.json') continue;
    await put(rel, content);
  }
  await put('errors.json', JSON.stringify(snapshot.errors, null, 2) + '\n');
}

/**
 * Writes a snapshot directory. Files go into a fresh sibling temp directory
 * (mkdtemp) first and it is renamed into place, so an interrupted write never
 * leaves a half snapshot under the requested name, and a failed one leaves
 * nothing at all.
 */
/** The directory name `snapshot` (and the wizard's s) uses when none is given. */
export function snapshotDirName(now = new Date()): string {
  return `initrd-wizard-snapshot-${now.toISOString().replace(/[:.]/g, '-')}`;
}

export async function writeSnapshot(snapshot: Snapshot, dir: string): Promise<void> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  if (target === parent) throw new InputError('/ cannot be a snapshot directory', 'choose another --output');
  await checkParent(parent);
  const existing = await checkTarget(target);
  const tmp = await mkdtemp(`${target}.tmp-`).catch((err: unknown) => {
    throw outputError(err, parent);
  });
  try {
    await fill(tmp, snapshot);
    // rmdir, not rm -r: if files appeared in the empty target meanwhile, fail rather than delete them.
    if (existing) await rmdir(target);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err instanceof InputError || err instanceof WizardError ? err : outputError(err, parent);
  }
}
