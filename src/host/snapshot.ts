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
import { link, lstat, open, unlink } from 'node:fs/promises';
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { InputError, WizardError } from '../errors.js';
import { formatBytes, LIMITS } from '../limits.js';
import { kindOf, openChildDirSync, openRootDirSync, readListedFileSync, readRegularFileSync, NotRegularFileError, TooLargeError, UnsafePathError, type SyncDirHandle } from '../system/rooted.js';
import { readTar, TarError, writeTar, type TarEntry } from './tar.js';
import { checkOutputParent, outputError, plainParts, writeNewDirectory } from '../system/newdir.js';
import { parseJsonText } from './parse/json.js';
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
function notRegular(shown: string, kind: string, isLink: boolean): InputError {
  const message = `${shown} is ${kind}, not a regular file: snapshots hold only regular files`;
  const hint = `remove it or ${RECAPTURE}`;
  return isLink ? new UnsafePathError(message, hint) : new NotRegularFileError(message, hint);
}

/**
 * The snapshot's sizes against the limits, counted from what lstat or a tar
 * header says before a byte is kept: a 60 MB sparse file or a million
 * entries is refused before any memory is spent on it.
 */
class Budget {
  private entries = 0;
  private total = 0;
  constructor(private readonly where: string) {}

  listed(n: number): void {
    this.entries += n;
    if (this.entries > LIMITS.snapshotFiles) {
      throw new TooLargeError(`${this.where} holds more than ${LIMITS.snapshotFiles} entries; a snapshot holds a few hundred`, `check that it is a snapshot; ${RECAPTURE}`);
    }
  }

  probe(shown: string, size: number, what = 'a snapshot probe output'): void {
    if (size > LIMITS.snapshotFileBytes) {
      throw new TooLargeError(
        `${shown} is ${formatBytes(size)}, more than the ${formatBytes(LIMITS.snapshotFileBytes)} accepted for ${what}`,
        `real probe outputs are far smaller: remove that file or ${RECAPTURE}`,
      );
    }
    this.total += size;
    if (this.total > LIMITS.snapshotTotalBytes) {
      throw new TooLargeError(`the probe files in ${this.where} add up to more than ${formatBytes(LIMITS.snapshotTotalBytes)}; real snapshots hold under 1 MiB`, `check that it is a snapshot; ${RECAPTURE}`);
    }
  }
}

/** What a snapshot holds, read but not yet parsed: the header, and each probe file's bytes. */
interface RawSnapshot {
  meta: Buffer;
  probes: Array<{ rel: string; data: Buffer }>;
  warnings: string[];
}

const NOT_A_SNAPSHOT = 'capture one with `initrd-wizard snapshot --output DIR` (or FILE.tar)';

/**
 * A snapshot directory, read synchronously (thousands are read at once by
 * `fleet`, and each is a few dozen small files). Directories are entered
 * through open descriptors, never a path resolved again; only the names the
 * format gives are looked at, each with lstat before it is opened.
 */
function readSnapshotDir(dir: string): RawSnapshot {
  const top = openRootDirSync(dir);
  const opened: SyncDirHandle[] = [top];
  const budget = new Budget(dir);
  const warnings: string[] = [];
  try {
    const metaPath = path.join(dir, 'snapshot.json');
    const metaStat = lstatSync(top.entry('snapshot.json'), { throwIfNoEntry: false });
    if (!metaStat) throw new InputError(`${metaPath} is missing: ${dir} is not a snapshot`, NOT_A_SNAPSHOT);
    if (!metaStat.isFile()) throw notRegular(metaPath, kindOf(metaStat), metaStat.isSymbolicLink());
    budget.probe(metaPath, metaStat.size, 'a snapshot header');
    const meta = readListedFileSync(top, 'snapshot.json', metaPath, { maxBytes: metaStat.size, what: 'snapshot.json when it was listed (it changed while being read)' });
    if (!meta) throw new InputError(`${metaPath} is missing: ${dir} is not a snapshot`, NOT_A_SNAPSHOT);

    const probes: RawSnapshot['probes'] = [];
    const walk = (here: SyncDirHandle, rel: string, depth: number) => {
      if (depth > LIMITS.snapshotDepth) throw new TooLargeError(`${path.join(dir, rel)} is nested more than ${LIMITS.snapshotDepth} directories deep`, `this is not a snapshot; ${RECAPTURE}`);
      const list = readdirSync(here.self, { withFileTypes: true });
      budget.listed(list.length);
      for (const entry of list) {
        const name = entry.name;
        const child = rel ? `${rel}/${name}` : name;
        const probe = isProbe(child);
        // Unknown names are never opened, whatever they are; only the two per-device directories are entered.
        if (!probe && !(rel === '' && PROBE_DIRS.has(name))) continue;
        // The listing's file type says what each name is without a call per file; lstat only where it cannot tell.
        const known = entry.isFile() || entry.isDirectory() || entry.isSymbolicLink() || entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice();
        const st = known ? entry : lstatSync(here.entry(name), { throwIfNoEntry: false });
        if (!st) continue; // removed while we looked: as if absent
        if (!probe) {
          if (!st.isDirectory()) continue;
          const sub = openChildDirSync(here, name);
          if (!sub) continue;
          opened.push(sub);
          walk(sub, child, depth + 1);
          continue;
        }
        const shown = shownPath(dir, child);
        // A device or FIFO is refused before it is opened: opening one can do something of its own.
        if (!st.isFile()) throw notRegular(shown, kindOf(st), st.isSymbolicLink());
        try {
          const data = readListedFileSync(here, name, shown, { maxBytes: LIMITS.snapshotFileBytes, what: 'a snapshot probe output', admit: (size) => budget.probe(shown, size) });
          if (data) probes.push({ rel: child, data });
        } catch (err) {
          if (err instanceof InputError) throw err;
          warnings.push(`${shown}: unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'}), ignored`);
        }
      }
    };
    walk(top, '', 0);
    return { meta, probes, warnings };
  } finally {
    for (const d of opened) d.close();
  }
}

/**
 * A snapshot archive (`snapshot --output FILE.tar`, or `tar -cf` of a
 * snapshot directory): the same names read, the same refusals. Its files sit
 * under one top directory, or at the top.
 */
function readSnapshotTar(file: string): RawSnapshot {
  const bytes = readRegularFileSync(file, { maxBytes: LIMITS.snapshotArchiveBytes, what: 'a snapshot archive' });
  if (!bytes) throw new InputError(`snapshot ${file} does not exist`, 'pass the file written by `initrd-wizard snapshot --output FILE.tar`');
  let entries: TarEntry[];
  try {
    entries = readTar(bytes, LIMITS.snapshotFiles);
  } catch (err) {
    if (!(err instanceof TarError)) throw err;
    throw new InputError(`${file} is not a snapshot archive: ${err.message}`, `pass a snapshot directory, or ${RECAPTURE.replace('DIR', 'FILE.tar')}`);
  }
  const heads = entries.filter((e) => /^([^/]+\/)?snapshot\.json$/.test(e.name));
  if (!heads.length) throw new InputError(`${file} holds no snapshot.json: it is not a snapshot archive`, NOT_A_SNAPSHOT);
  if (heads.length > 1) {
    throw new InputError(`${file} holds ${heads.length} snapshots (${heads.map((h) => quoteForMessage(h.name, 60)).join(', ')}); an archive holds one`, 'archive each snapshot on its own, or pass the directories to `fleet`');
  }
  const prefix = heads[0]!.name.slice(0, -'snapshot.json'.length);
  const budget = new Budget(file);
  const probes: RawSnapshot['probes'] = [];
  const seen = new Set<string>();
  let meta: Buffer | null = null;
  for (const e of entries) {
    if (!e.name.startsWith(prefix)) continue;
    const rel = e.name.slice(prefix.length);
    const isHeader = rel === 'snapshot.json';
    if (!isHeader && !isProbe(rel)) continue;
    const shown = shownPath(file, rel);
    if (e.type !== 'file') throw notRegular(shown, e.type === 'hardlink' ? 'a hard link' : `a ${e.type}`, e.type === 'symlink' || e.type === 'hardlink');
    if (seen.has(rel)) throw new InputError(`${shown} is in the archive twice: which one is the snapshot's cannot be told`, RECAPTURE.replace('DIR', 'FILE.tar'));
    seen.add(rel);
    budget.probe(shown, e.data.length, isHeader ? 'a snapshot header' : undefined);
    if (isHeader) meta = e.data;
    else probes.push({ rel, data: e.data });
  }
  return { meta: meta!, probes, warnings: [] };
}

/** The header, or a refusal: without a valid snapshot.json nothing else in the snapshot is trusted. */
function parseMeta(metaPath: string, data: Buffer): SnapshotMeta {
  // The parse error never quotes the file: it could be anything (it was /etc/shadow once).
  const json = parseJsonText(data.toString('utf8'));
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
function probeErrors(text: string | undefined, where: string, warnings: string[]): ProbeError[] {
  if (text === undefined) return [];
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

/**
 * A snapshot from a directory or a tar archive. Synchronous: a snapshot is
 * under a megabyte, read in about a millisecond, and `fleet` reads thousands.
 */
export function loadSnapshotSync(where: string): Snapshot {
  // The path the user names may be reached through links (their choice); nothing inside it is.
  let info: Stats | undefined;
  try {
    info = statSync(where, { throwIfNoEntry: false });
  } catch (err) {
    throw unreadable(where, err);
  }
  if (!info) throw new InputError(`snapshot ${where} does not exist`, 'pass the directory (or FILE.tar) written by `initrd-wizard snapshot --output`');
  if (!info.isDirectory() && !info.isFile()) throw new InputError(`${where} is neither a directory nor a file`, 'pass the directory (or FILE.tar) written by `initrd-wizard snapshot --output`');
  try {
    const raw = info.isDirectory() ? readSnapshotDir(where) : readSnapshotTar(where);
    const meta = parseMeta(shownPath(where, 'snapshot.json'), raw.meta);
    const warnings = raw.warnings;
    if (meta.format > SNAPSHOT_FORMAT) warnings.unshift(`snapshot format ${meta.format} is newer than this tool's (${SNAPSHOT_FORMAT}): reading the files it knows`);
    const files = new Map<string, string>();
    for (const p of raw.probes) files.set(p.rel, p.data.toString('utf8'));
    const errors = probeErrors(files.get('errors.json'), shownPath(where, 'errors.json'), warnings);
    return { dir: where, meta, files, errors, warnings };
  } catch (err) {
    throw unreadable(where, err);
  }
}

export async function loadSnapshot(where: string): Promise<Snapshot> {
  return loadSnapshotSync(where);
}

/** A snapshot this user may not list or read: say so (exit 2) instead of an internal error. */
function unreadable(where: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof InputError || (code !== 'EACCES' && code !== 'EPERM')) return err;
  return new InputError(`cannot read the snapshot in ${where}: permission denied (${code})`, 'run as a user who can read it, or copy it somewhere readable');
}

/** Names inside a snapshot: plain components only, so a write can never leave it. */
const SNAPSHOT_NAMES = {
  badName: (rel: string) => new InputError(`"${quoteForMessage(rel)}" is not a file name inside a snapshot`, 'report this: capture produced an unexpected probe name'),
  maxDepth: LIMITS.snapshotDepth,
};

/** What a written snapshot holds, in order: the header, the probe files, and errors.json. */
function snapshotEntries(snapshot: Snapshot): Array<[string, string]> {
  const out: Array<[string, string]> = [['snapshot.json', JSON.stringify(snapshot.meta, null, 2) + '\n']];
  for (const [rel, content] of snapshot.files) {
    if (rel === 'errors.json' || rel === 'snapshot.json') continue;
    plainParts(rel, SNAPSHOT_NAMES);
    out.push([rel, content]);
  }
  out.push(['errors.json', JSON.stringify(snapshot.errors, null, 2) + '\n']);
  return out;
}

/** An output named FILE.tar is written as one archive instead of a directory. */
export const isArchiveOutput = (output: string) => output.endsWith('.tar');

/**
 * Writes a snapshot as one tar archive, whose files sit under a directory
 * named like the archive. The bytes go to a fresh temp file beside it, and
 * are linked into place: link() never replaces a file that appeared in the
 * meantime, and an interrupted write leaves no half archive under the name.
 */
async function writeSnapshotTar(snapshot: Snapshot, target: string): Promise<void> {
  const parent = path.dirname(target);
  await checkOutputParent(parent, 'snapshot');
  const exists = await lstat(target).catch(() => null);
  if (exists) throw new InputError(`${target} already exists`, 'choose a new file name for --output, or remove it first');
  const captured = Date.parse(snapshot.meta.captured);
  const bytes = writeTar(path.basename(target, '.tar') || 'snapshot', snapshotEntries(snapshot), Number.isFinite(captured) ? captured / 1000 : 0);
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await link(tmp, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new InputError(`${target} already exists`, 'choose a new file name for --output, or remove it first');
    throw err instanceof InputError || err instanceof WizardError ? err : outputError(err, parent, 'snapshot', 'the snapshot archive');
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
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
  if (isArchiveOutput(target)) return writeSnapshotTar(snapshot, target);
  // No dirMode: the directory keeps mkdtemp's 0700, as snapshots always have.
  await writeNewDirectory(target, snapshotEntries(snapshot), { noun: 'snapshot', ...SNAPSHOT_NAMES });
}
