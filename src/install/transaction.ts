/**
 * Applies an InstallPlan as a transaction, and reverts it. A journal, written
 * and fsynced before the first change, records every touched path's state
 * before the first install (for revert) and before this run (for rollback).
 *
 * All or nothing, seen from the user: a run that fails (EPERM, EROFS, ENOSPC
 * …) puts everything back before it returns; a run that is killed is rolled
 * back (install) or completed (revert) by the next start, which also sweeps
 * every temp file a killed run could have left.
 */
import { commandLine } from '../paths.js';
import { constants as fsc } from 'node:fs';
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import { InputError, WizardError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { openDirBeneath } from '../system/rooted.js';
import { fsError } from '../system/fserrors.js';
import { systemRunner, type Runner, CommandNotFoundError } from '../system/run.js';
import { TOOL_ID } from '../version.js';
import { killPoint, mutation } from './faults.js';
import { sha256, type Desired, type PathState, type Root, type Step } from './fsops.js';
import { JOURNALED_PREFIXES, WRITE_DIRS, type FileChange, type InstallPlan } from './plan.js';

export const STATE_DIR = '/var/lib/initrd-wizard';
const JOURNAL = `${STATE_DIR}/journal.json`;
const LOCK = `${STATE_DIR}/lock`;

const hostPathSchema = z
  .string()
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.split('/').some((c) => c === '..' || c === '.') && !/[\0\n]/.test(p), 'not a clean absolute path');

const storedSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('absent') }),
  z.object({ type: z.literal('file'), content: z.string(), mode: z.number().int().min(0).max(0o7777), uid: z.number().int().min(0), gid: z.number().int().min(0) }),
  z.object({ type: z.literal('symlink'), target: z.string().min(1).max(4096) }),
]);
type Stored = z.infer<typeof storedSchema>;

const installedSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('file'), sha256: z.string().regex(/^[0-9a-f]{64}$/), mode: z.number().int().min(0).max(0o7777) }),
  z.object({ type: z.literal('symlink'), target: z.string().min(1).max(4096) }),
]);
type Installed = z.infer<typeof installedSchema>;

const entrySchema = z.object({
  path: hostPathSchema,
  /** Before the first install: what revert restores. */
  prior: storedSchema,
  /** Before this run: what a rollback restores. */
  before: storedSchema,
  installed: installedSchema,
});
type Entry = z.infer<typeof entrySchema>;

const journalSchema = z.object({
  version: z.literal(1),
  tool: z.string(),
  phase: z.enum(['applying', 'applied', 'reverting']),
  entries: z.array(entrySchema),
  /** Directories the install created, outermost first (revert removes them when empty). */
  createdDirs: z.array(hostPathSchema),
  /** This run's paths and new directories, for rollback. */
  run: z.object({ paths: z.array(hostPathSchema), createdDirs: z.array(hostPathSchema) }).nullable(),
  /** The journal as it was before this run (re-install over an earlier install). */
  base: z.object({ entries: z.array(entrySchema), createdDirs: z.array(hostPathSchema) }).nullable(),
});
type Journal = z.infer<typeof journalSchema>;

/** A journal names only what install writes: anything else would let a planted journal delete files. */
function checkJournalPaths(j: Journal): string | null {
  const entries = [...j.entries, ...(j.base?.entries ?? [])];
  for (const e of entries) if (!JOURNALED_PREFIXES.some((p) => e.path.startsWith(p))) return `it names ${e.path}, which initrd-wizard never writes`;
  const paths = entries.map((e) => e.path);
  for (const d of [...j.createdDirs, ...(j.run?.createdDirs ?? []), ...(j.base?.createdDirs ?? [])]) {
    if (!paths.some((p) => p.startsWith(d + '/'))) return `it lists ${d} as a directory it created, but no file of it lies there`;
  }
  for (const p of j.run?.paths ?? []) if (!paths.includes(p)) return `its run names ${p} without an entry`;
  return null;
}

function store(s: PathState, p: string): Stored {
  if (s.type === 'dir') throw new WizardError(`${p} is a directory where initrd-wizard writes a file`, { hint: 'move it away, then run again' });
  if (s.type === 'other') throw new WizardError(`${p} is a ${s.kind} where initrd-wizard writes a file`, { hint: 'move it away, then run again' });
  if (s.type === 'file') return { type: 'file', content: s.content.toString('base64'), mode: s.mode, uid: s.uid, gid: s.gid };
  return s;
}

function desiredOf(s: Stored): Desired {
  if (s.type === 'file') return { type: 'file', content: Buffer.from(s.content, 'base64'), mode: s.mode, owner: { uid: s.uid, gid: s.gid } };
  return s;
}

function installedOf(c: FileChange): Installed {
  return c.kind === 'symlink' ? { type: 'symlink', target: c.target! } : { type: 'file', sha256: sha256(c.content!), mode: c.mode ?? 0o644 };
}

function matches(state: PathState, inst: Installed): boolean {
  if (inst.type === 'symlink') return state.type === 'symlink' && state.target === inst.target;
  return state.type === 'file' && sha256(state.content) === inst.sha256 && state.mode === inst.mode;
}

interface Change {
  hostPath: string;
  want: Desired;
  /** A symlink at the path may be replaced (one this tool put there, or a /dev/null mask). */
  replaceSymlink: boolean;
  keepIn?: string;
}

interface ChangeHooks {
  /** After each commit (kill points for the tests). */
  afterCommit?: () => void;
  /** Runs once everything is committed, while it can still be undone: a failure here undoes it all. */
  beforeFinish?: () => Promise<void>;
  /** Runs first when undoing (to recreate what beforeFinish removed). */
  onUndo?: () => Promise<void>;
}

export class Transaction {
  /** The held lock file; it also lists the directories this run may leave temp files in. */
  private lockFile: FileHandle | null = null;
  /** Directories a killed earlier run listed in the lock file it left behind. */
  private leftBehind: string[] = [];

  constructor(
    readonly root: Root,
    private readonly runner: Runner = systemRunner,
  ) {}

  private async readJournal(): Promise<Journal | null> {
    const text = await this.root.readText(JOURNAL, LIMITS.journalBytes);
    if (text === null) return null;
    const hint = `move ${this.root.show(JOURNAL)} aside and check the files it names by hand (initrd-wizard writes it as JSON)`;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new InputError(`${this.root.show(JOURNAL)} is not valid JSON: it was not written by initrd-wizard, or was damaged`, hint);
    }
    const r = journalSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new InputError(`${this.root.show(JOURNAL)} is not an initrd-wizard journal (${issue ? `${issue.path.join('.') || 'top level'}: ${issue.message}` : 'unknown shape'})`, hint);
    }
    const bad = checkJournalPaths(r.data);
    if (bad) throw new InputError(`${this.root.show(JOURNAL)} is not trusted: ${bad}`, hint);
    return r.data;
  }

  private async writeJournal(j: Journal): Promise<void> {
    await this.root.put(JOURNAL, { type: 'file', content: JSON.stringify(j, null, 1) + '\n', mode: 0o600 });
  }

  /** Takes the lock, creating the state directory (root only: the journal holds copies of system files). */
  async lock(): Promise<() => Promise<void>> {
    const created = await this.root.ensureParents(LOCK).catch((err) => {
      throw fsError(err, `creating ${this.root.show(STATE_DIR)}`, 'nothing was changed');
    });
    const tidy = async () => {
      for (const d of [...created].reverse()) await this.root.removeDirIfEmpty(d).catch(() => false);
    };
    let fh: FileHandle | null = null;
    try {
      // Always: a run killed between mkdir and chmod leaves it 0755, and it holds copies of system files.
      await this.root.chmodDir(STATE_DIR, 0o700);
      fh = await this.takeLock();
    } catch (err) {
      await tidy();
      throw err instanceof WizardError ? err : fsError(err, `locking ${this.root.show(LOCK)}`, 'nothing was changed');
    }
    const held = fh;
    this.lockFile = held;
    return async () => {
      this.lockFile = null;
      // Unlinked while still held, so a waiter that opened the old file retries on a fresh one.
      const d = await openDirBeneath(this.root.dir, STATE_DIR, 'never').catch(() => null);
      if (d) {
        await unlink(d.entry('lock')).catch(() => undefined);
        await d.close();
      }
      await held.close().catch(() => undefined);
      await this.root.removeDirIfEmpty(STATE_DIR).catch(() => false);
      await tidy();
    };
  }

  /**
   * flock(2) through flock(1) on our own descriptor: the kernel drops the lock
   * when this process ends however it ends, so there is no stale lock to take
   * over and a reused PID cannot block anyone.
   */
  private async takeLock(): Promise<FileHandle> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const d = await openDirBeneath(this.root.dir, STATE_DIR, 'never');
      if (!d) throw new WizardError(`${this.root.show(STATE_DIR)} vanished`);
      let fh: FileHandle | null = null;
      try {
        mutation('create', LOCK);
        fh = await open(d.entry('lock'), fsc.O_RDWR | fsc.O_CREAT | fsc.O_NOFOLLOW | fsc.O_NONBLOCK, 0o600);
        if (!(await fh.stat()).isFile()) throw new WizardError(`${this.root.show(LOCK)} is not a regular file`, { hint: 'remove it, then run again' });
        let r;
        try {
          r = await this.runner.run(['flock', '--nonblock', '--exclusive', '3'], { passFd: fh.fd, timeoutMs: 10_000, okExitCodes: [1] });
        } catch (err) {
          if (err instanceof CommandNotFoundError) throw new WizardError('flock (util-linux) is not installed: initrd-wizard needs it to lock the install journal', { hint: 'install util-linux' });
          throw err;
        }
        if (r.exitCode === 1) {
          const pid = (await fh.readFile('utf8').catch(() => '')).trim();
          throw new WizardError(`another initrd-wizard run${/^\d+$/.test(pid) ? ` (pid ${pid})` : ''} is installing or reverting in ${this.root.dir}`, { hint: 'wait for it to finish, then run again' });
        }
        const now = await lstat(d.entry('lock')).catch(() => null);
        if (!now || now.ino !== (await fh.stat()).ino) {
          await fh.close();
          fh = null;
          continue; // the holder unlinked it while we waited: lock the new one
        }
        // A lock file still here was left by a run that was killed: the directories it listed may hold its temp files.
        this.leftBehind = parseSweepList(await fh.readFile('utf8').catch(() => ''));
        // The PID is only for the "another run" message: a full disk must not stop us here.
        await fh.truncate(0).catch(() => undefined);
        await fh.write(`${process.pid}\n`, 0).catch(() => undefined);
        const held = fh;
        fh = null;
        return held;
      } finally {
        if (fh) await fh.close().catch(() => undefined);
        await d.close();
      }
    }
    throw new WizardError(`cannot take the lock ${this.root.show(LOCK)}: it keeps changing`, { hint: 'run again' });
  }

  /** Appends directories to the lock file's sweep list (fsynced): the next run sweeps them if this one is killed. */
  private async noteSweepDirs(dirs: string[]): Promise<void> {
    if (!this.lockFile) return;
    const text = [...new Set(dirs)].map((d) => `${d}\n`).join('');
    const { size } = await this.lockFile.stat();
    await this.lockFile.write(text, size);
    await this.lockFile.sync();
  }

  /** Directories where a killed run may have left temp files. */
  private async sweep(j: Journal | null): Promise<void> {
    const dirs = new Set<string>([STATE_DIR, ...WRITE_DIRS, ...this.leftBehind]);
    for (const e of [...(j?.entries ?? []), ...(j?.base?.entries ?? [])]) dirs.add(path.posix.dirname(e.path));
    // Where revert keeps versions of files in directories it removes.
    for (const d of j?.createdDirs ?? []) dirs.add(path.posix.dirname(d));
    for (const d of dirs) await this.root.sweepTemps(d);
  }

  /**
   * Stages every change, then commits them; a failure anywhere undoes what was
   * done (in reverse) and removes the directories made for it, then rethrows.
   */
  private async changeAll(changes: Change[], hooks: ChangeHooks = {}): Promise<string[]> {
    const created: string[] = [];
    const steps: Step[] = [];
    try {
      // Listed before any temp file exists: a run killed after its journal is gone is still swept.
      await this.noteSweepDirs(changes.flatMap((c) => [path.posix.dirname(c.hostPath), ...(c.keepIn ? [c.keepIn] : [])]));
      for (const c of changes) created.push(...(await this.root.ensureParents(c.hostPath)));
      for (const c of changes) steps.push(await this.root.stage(c.hostPath, c.want, { replaceSymlink: c.replaceSymlink, keepIn: c.keepIn }));
      for (const s of steps) {
        await s.commit();
        hooks.afterCommit?.();
      }
      await hooks.beforeFinish?.();
      // Killed here, the kept versions outlive the journal: the lock file's sweep list finds them.
      hooks.afterCommit?.();
    } catch (err) {
      const undoErrors: string[] = [];
      try {
        await hooks.onUndo?.();
      } catch (e) {
        undoErrors.push(fsError(e, 'undoing').message);
      }
      for (const s of [...steps].reverse()) {
        await s.abort().catch((e: unknown) => undoErrors.push(fsError(e, `putting ${this.root.show(s.hostPath)} back`).message));
      }
      for (const d of [...created].reverse()) await this.root.removeDirIfEmpty(d).catch(() => false);
      if (undoErrors.length) throw new UndoFailed(err, undoErrors);
      throw err;
    }
    for (const s of steps) await s.finish();
    return created;
  }

  /** Finishes or undoes an interrupted run, and sweeps temp files. Returns a sentence for the user, or null. */
  async recover(): Promise<string | null> {
    const j = await this.readJournal();
    await this.sweep(j);
    if (!j || j.phase === 'applied') return null;
    if (j.phase === 'reverting') {
      await this.doRevert(j, null);
      return 'an interrupted revert was completed: every file is back as it was before the install';
    }
    // applying: put this run's paths back as they were before it, then restore the earlier journal.
    const run = j.run ?? { paths: j.entries.map((e) => e.path), createdDirs: j.createdDirs };
    const back = j.entries.filter((e) => run.paths.includes(e.path)).map((e) => ({ hostPath: e.path, want: desiredOf(e.before), replaceSymlink: true }));
    await this.changeAll(back);
    for (const d of [...run.createdDirs].reverse()) await this.root.removeDirIfEmpty(d);
    if (j.base) await this.writeJournal({ ...j, phase: 'applied', entries: j.base.entries, createdDirs: j.base.createdDirs, run: null, base: null });
    else await this.root.remove(JOURNAL);
    return 'an interrupted install was rolled back: the files it had started to change are as they were before it';
  }

  async status(): Promise<Journal | null> {
    return this.readJournal();
  }

  /** Could there be anything to revert or recover? Asked without creating or locking anything. */
  async hasStateDir(): Promise<boolean> {
    return (await this.root.state(STATE_DIR)).type !== 'absent';
  }

  async apply(plan: Pick<InstallPlan, 'changes'>): Promise<{ changed: string[] }> {
    const steps = { n: 0 };
    const previous = await this.readJournal();
    if (previous && previous.phase !== 'applied') throw new WizardError('internal: recover() must run before apply()');
    const entries = new Map<string, Entry>((previous?.entries ?? []).map((e) => [e.path, e]));
    const runDirs = new Set<string>();
    const changes: Change[] = [];
    for (const c of plan.changes) {
      const cur = await this.root.state(c.path);
      const now = store(cur, this.root.show(c.path));
      const old = entries.get(c.path);
      entries.set(c.path, { path: c.path, prior: old ? old.prior : now, before: now, installed: installedOf(c) });
      // Directories this run will create, recorded before any is made.
      let dir = '';
      for (const part of path.posix.dirname(c.path).split('/').filter(Boolean)) {
        dir += `/${part}`;
        if ((await this.root.state(dir)).type === 'absent') runDirs.add(dir);
      }
      // A symlink may only be replaced when it is one this tool put there, or a mask.
      const ours = previous?.entries.some((e) => e.path === c.path && e.installed.type === 'symlink') ?? false;
      const replaceSymlink = ours || (c.kind === 'symlink' && (cur.type !== 'symlink' || cur.target === '/dev/null'));
      const want: Desired = c.kind === 'symlink' ? { type: 'symlink', target: c.target! } : { type: 'file', content: c.content!, mode: c.mode ?? 0o644, owner: cur.type === 'file' ? { uid: cur.uid, gid: cur.gid } : undefined };
      changes.push({ hostPath: c.path, want, replaceSymlink });
    }
    const createdDirs = [...(previous?.createdDirs ?? []), ...[...runDirs].filter((d) => !(previous?.createdDirs ?? []).includes(d))];
    const journal: Journal = {
      version: 1,
      tool: TOOL_ID,
      phase: 'applying',
      entries: [...entries.values()],
      createdDirs,
      run: { paths: plan.changes.map((c) => c.path), createdDirs: [...runDirs] },
      base: previous ? { entries: previous.entries, createdDirs: previous.createdDirs } : null,
    };
    const journalText = JSON.stringify(journal, null, 1);
    // Preflight's probe files go into the nearest existing directory of each target, which may be any ancestor.
    await this.noteSweepDirs(withAncestors([...plan.changes.map((c) => path.posix.dirname(c.path)), STATE_DIR]));
    const problems = await this.root.preflight([
      ...plan.changes.map((c) => ({ hostPath: c.path, bytes: c.kind === 'symlink' ? 0 : Buffer.byteLength(c.content!) })),
      // The journal is written twice (applying, applied), each through a temp file beside the old one.
      { hostPath: JOURNAL, bytes: journalText.length * 2 },
    ]);
    if (problems.length) throw new WizardError(`not installing:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { hint: 'nothing was changed; fix the items above and run install again' });

    const restoreJournal = async () => (previous ? this.writeJournal(previous) : this.root.remove(JOURNAL));
    try {
      await this.writeJournal(journal);
    } catch (err) {
      throw fsError(err, `writing the journal ${this.root.show(JOURNAL)}`, 'nothing was changed');
    }
    killPoint('apply', steps);
    try {
      await this.changeAll(changes, {
        afterCommit: () => killPoint('apply', steps),
        beforeFinish: () => this.writeJournal({ ...journal, phase: 'applied', run: null, base: null }),
      });
    } catch (err) {
      if (err instanceof UndoFailed) throw this.undoFailed('install', err);
      try {
        await restoreJournal();
      } catch (e) {
        throw this.undoFailed('install', new UndoFailed(err, [fsError(e, 'restoring the journal').message]));
      }
      throw fsError(err, 'installing', 'everything was put back as it was: nothing was changed');
    }
    killPoint('apply', steps);
    return { changed: plan.changes.map((c) => c.path) };
  }

  /**
   * Takes files another program wrote at our request (kernel-install's UKI)
   * into the installed journal, so that revert puts back what was there
   * before it ran: `before` is the path's state then, `createdDirs` the
   * directories that did not exist then (outermost first). One journal
   * write: killed before it, the file is simply not ours to revert.
   */
  async adopt(files: Array<{ path: string; before: PathState }>, createdDirs: string[]): Promise<void> {
    const j = await this.readJournal();
    if (!j || j.phase !== 'applied') throw new WizardError('internal: adopt() needs an applied install');
    const entries = new Map<string, Entry>(j.entries.map((e) => [e.path, e]));
    for (const f of files) {
      if (!JOURNALED_PREFIXES.some((p) => f.path.startsWith(p))) throw new WizardError(`internal: ${f.path} is outside what the journal may name`);
      const now = await this.root.state(f.path);
      if (now.type !== 'file') continue;
      const before = store(f.before, this.root.show(f.path));
      const old = entries.get(f.path);
      entries.set(f.path, { path: f.path, prior: old ? old.prior : before, before, installed: { type: 'file', sha256: sha256(now.content), mode: now.mode } });
    }
    const dirs = [...j.createdDirs, ...createdDirs.filter((d) => !j.createdDirs.includes(d) && [...entries.keys()].some((p) => p.startsWith(d + '/')))];
    try {
      await this.writeJournal({ ...j, entries: [...entries.values()], createdDirs: dirs });
    } catch (err) {
      throw fsError(err, `writing the journal ${this.root.show(JOURNAL)}`, 'the install is in place, but revert will not remove what kernel-install wrote');
    }
  }

  private undoFailed(what: 'install' | 'revert', e: UndoFailed): WizardError {
    const first = fsError(e.cause, what === 'install' ? 'installing' : 'reverting').message;
    return new WizardError(
      `${first}; putting things back failed too: ${e.undoErrors.join('; ')}`, { hint: `fix the cause above, then run \`${commandLine('revert', ...(this.root.dir !== '/' ? ['--root', this.root.dir] : []))}\`: the journal in ${this.root.show(STATE_DIR)} keeps what is needed to finish` },
    );
  }

  /** What was changed by someone else since the install, as diffs. */
  async modifications(): Promise<string[]> {
    const j = await this.readJournal();
    if (!j) return [];
    const out: string[] = [];
    for (const e of j.entries) {
      const now = await this.root.state(e.path);
      if (matches(now, e.installed)) continue;
      // A UKI is tens of MiB of binary: named by size and hash, never diffed.
      const text = (b: Buffer) => (b.length > 64 * 1024 || b.includes(0) ? `(a binary file of ${b.length} bytes, sha256 ${sha256(b).slice(0, 12)}…)\n` : b.toString('utf8'));
      const describe = (s: PathState) => (s.type === 'file' ? text(s.content) : s.type === 'symlink' ? `symlink → ${s.target}\n` : s.type === 'absent' ? '' : `(${s.type === 'dir' ? 'a directory' : s.kind})\n`);
      out.push(createTwoFilesPatch(`${e.path} (as installed)`, `${e.path} (now)`, e.installed.type === 'symlink' ? `symlink → ${e.installed.target}\n` : `(file with sha256 ${e.installed.sha256.slice(0, 12)}…; contents not kept)\n`, describe(now)));
    }
    return out;
  }

  async revert(force: boolean): Promise<{ restored: string[] }> {
    const j = await this.readJournal();
    if (!j) throw new WizardError('nothing to revert: initrd-wizard has no install on record here', { hint: `no ${JOURNAL} under ${this.root.dir}` });
    if (!force) {
      const mods = await this.modifications();
      if (mods.length) {
        throw new WizardError(`files changed since the install; not reverting over them:\n${mods.join('\n')}`, { hint: `keep your changes somewhere, then run \`${commandLine('revert', '--force', ...(this.root.dir !== '/' ? ['--root', this.root.dir] : []))}\` to restore every file as it was before the install` });
      }
    }
    const steps = { n: 0 };
    try {
      await this.writeJournal({ ...j, phase: 'reverting' });
    } catch (err) {
      throw fsError(err, `writing the journal ${this.root.show(JOURNAL)}`, 'nothing was changed');
    }
    killPoint('revert', steps);
    await this.doRevert(j, steps);
    return { restored: j.entries.map((e) => e.path) };
  }

  /** Restores every entry's prior state, removes the directories install made and the journal: all of it, or none. */
  private async doRevert(j: Journal, steps: { n: number } | null): Promise<void> {
    const removedDirs: string[] = [];
    const changes: Change[] = [];
    for (const e of j.entries) {
      changes.push({ hostPath: e.path, want: desiredOf(e.prior), replaceSymlink: true, keepIn: await this.keepOutside(e.path, j.createdDirs) });
    }
    try {
      await this.changeAll(
        changes,
        {
          afterCommit: () => steps && killPoint('revert', steps),
          beforeFinish: async () => {
            for (const d of [...j.createdDirs].reverse()) if (await this.root.removeDirIfEmpty(d)) removedDirs.push(d);
            await this.root.remove(JOURNAL);
          },
          onUndo: async () => {
            for (const d of [...removedDirs].reverse()) await this.root.ensureParents(`${d}/x`);
          },
        },
      );
    } catch (err) {
      if (err instanceof UndoFailed) throw this.undoFailed('revert', err);
      if (steps) {
        // Back to the installed state the journal describes.
        try {
          await this.writeJournal({ ...j, phase: 'applied' });
        } catch (e) {
          throw this.undoFailed('revert', new UndoFailed(err, [fsError(e, 'restoring the journal').message]));
        }
      }
      throw fsError(err, 'reverting', steps ? 'everything was put back as installed: nothing was changed' : 'the journal is kept; run revert again');
    }
    if (steps) killPoint('revert', steps);
  }

  /**
   * A file inside a directory that revert removes keeps its installed version
   * in the nearest directory that stays (else that directory would not be
   * empty), when both sit on one file system.
   */
  private async keepOutside(hostPath: string, createdDirs: string[]): Promise<string | undefined> {
    const outer = createdDirs.filter((d) => hostPath.startsWith(d + '/')).sort((a, b) => a.length - b.length)[0];
    if (!outer) return undefined;
    const stays = path.posix.dirname(outer);
    return (await this.root.sameDevice(stays, path.posix.dirname(hostPath))) ? stays : undefined;
  }

  async cleanup(release: () => Promise<void>): Promise<void> {
    await release();
  }
}

/** Each directory and every directory above it, up to "/". */
function withAncestors(dirs: string[]): string[] {
  const out = new Set<string>();
  for (let d of dirs) {
    for (;;) {
      out.add(d);
      if (d === '/') break;
      d = path.posix.dirname(d);
    }
  }
  return [...out];
}

/** The sweep list of a lock file left behind: clean absolute paths only, a bounded number. */
function parseSweepList(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => hostPathSchema.safeParse(l).success)
    .slice(0, 1000);
}

/** The change failed and undoing it failed too. */
class UndoFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly undoErrors: string[],
  ) {
    super('undo failed');
  }
}
