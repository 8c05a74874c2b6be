/**
 * Applies an InstallPlan as a transaction, and reverts it. A journal, written
 * and fsynced before the first change, records every touched path's state
 * before the first install (for revert) and before this run (for rollback).
 * An interrupted run is found on the next start and rolled back (install) or
 * completed (revert).
 */
import { constants as fsc } from 'node:fs';
import { open, readFile, unlink, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { WizardError } from '../errors.js';
import { TOOL_ID } from '../version.js';
import { sha256, type PathState, type Root } from './fsops.js';
import type { FileChange, InstallPlan } from './plan.js';

export const STATE_DIR = '/var/lib/initrd-wizard';
const JOURNAL = `${STATE_DIR}/journal.json`;
const LOCK = `${STATE_DIR}/lock`;

type Stored =
  | { type: 'absent' }
  | { type: 'file'; content: string; mode: number; uid: number; gid: number }
  | { type: 'symlink'; target: string };

type Installed = { type: 'file'; sha256: string; mode: number } | { type: 'symlink'; target: string };

interface Entry {
  path: string;
  /** Before the first install: what revert restores. */
  prior: Stored;
  /** Before this run: what a rollback restores. */
  before: Stored;
  installed: Installed;
}

interface Journal {
  version: 1;
  tool: string;
  phase: 'applying' | 'applied' | 'reverting';
  entries: Entry[];
  /** Directories the install created, outermost first (revert removes them when empty). */
  createdDirs: string[];
  /** This run's paths and new directories, for rollback. */
  run: { paths: string[]; createdDirs: string[] } | null;
  /** The journal as it was before this run (re-install over an earlier install). */
  base: { entries: Entry[]; createdDirs: string[] } | null;
}

function store(s: PathState, p: string): Stored {
  if (s.type === 'dir') throw new WizardError(`${p} is a directory where initrd-wizard writes a file`, 1, 'move it away, then run again');
  if (s.type === 'file') return { type: 'file', content: s.content.toString('base64'), mode: s.mode, uid: s.uid, gid: s.gid };
  return s;
}

function unstore(s: Stored): PathState {
  if (s.type === 'file') return { type: 'file', content: Buffer.from(s.content, 'base64'), mode: s.mode, uid: s.uid, gid: s.gid };
  return s;
}

function installedOf(c: FileChange): Installed {
  return c.kind === 'symlink' ? { type: 'symlink', target: c.target! } : { type: 'file', sha256: sha256(c.content!), mode: c.mode ?? 0o644 };
}

function matches(state: PathState, inst: Installed): boolean {
  if (inst.type === 'symlink') return state.type === 'symlink' && state.target === inst.target;
  return state.type === 'file' && sha256(state.content) === inst.sha256 && state.mode === inst.mode;
}

/** Test hook: SIGKILL this process at a step boundary (INITRD_WIZARD_FAULT=apply:3). */
function faultPoint(op: 'apply' | 'revert', counter: { n: number }) {
  counter.n++;
  const spec = process.env.INITRD_WIZARD_FAULT;
  if (spec && spec === `${op}:${counter.n}`) process.kill(process.pid, 'SIGKILL');
}

export class Transaction {
  constructor(readonly root: Root) {}

  private async readJournal(): Promise<Journal | null> {
    const text = await this.root.readText(JOURNAL);
    if (text === null) return null;
    try {
      const j = JSON.parse(text) as Journal;
      if (j.version !== 1 || !Array.isArray(j.entries)) throw new Error('unknown version');
      return j;
    } catch (err) {
      throw new WizardError(`${JOURNAL} is unreadable (${err instanceof Error ? err.message : String(err)})`, 1, `inspect it; if no install is in place, remove ${JOURNAL}`);
    }
  }

  private async writeJournal(j: Journal): Promise<void> {
    await this.root.writeFile(JOURNAL, JSON.stringify(j, null, 1) + '\n', 0o600);
  }

  private async ensureStateDir(): Promise<string[]> {
    const created = await this.root.ensureParents(`${STATE_DIR}/x`);
    // The journal holds copies of system files: root only.
    const { chmod } = await import('node:fs/promises');
    await chmod(this.root.at(STATE_DIR), 0o700);
    return created;
  }

  /** Takes the lock; a lock left by a process that no longer runs is taken over. */
  async lock(): Promise<() => Promise<void>> {
    await this.ensureStateDir();
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(this.root.at(LOCK), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
        await fh.writeFile(`${process.pid}\n`);
        await fh.sync();
        await fh.close();
        return async () => {
          await unlink(this.root.at(LOCK)).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number((await readFile(this.root.at(LOCK), 'utf8').catch(() => '')).trim());
        let alive = false;
        if (pid > 0 && pid !== process.pid) {
          try {
            process.kill(pid, 0);
            alive = true;
          } catch {
            alive = false;
          }
        }
        if (alive) throw new WizardError(`another initrd-wizard run (pid ${pid}) is installing or reverting`, 1, 'wait for it to finish, then run again');
        await unlink(this.root.at(LOCK)).catch(() => undefined);
      }
    }
    throw new WizardError(`cannot take the lock ${LOCK}`);
  }

  /** Removes the state directory when nothing is left in it. */
  private async tidyStateDir(): Promise<void> {
    const left = await readdir(this.root.at(STATE_DIR)).catch(() => null);
    if (left && left.length === 0) await rmdir(this.root.at(STATE_DIR)).catch(() => undefined);
  }

  /** Finishes or undoes an interrupted run. Returns a sentence for the user, or null. */
  async recover(): Promise<string | null> {
    const j = await this.readJournal();
    if (!j || j.phase === 'applied') return null;
    if (j.phase === 'reverting') {
      await this.finishRevert(j, { n: 0 }, false);
      return 'an interrupted revert was completed: every file is back as it was before the install';
    }
    // applying: put this run's paths back as they were before it, then restore the earlier journal.
    const run = j.run ?? { paths: j.entries.map((e) => e.path), createdDirs: j.createdDirs };
    for (const e of j.entries) if (run.paths.includes(e.path)) await this.root.restore(e.path, unstore(e.before));
    for (const d of [...run.createdDirs].reverse()) await this.root.removeDirIfEmpty(d);
    if (j.base) await this.writeJournal({ ...j, phase: 'applied', entries: j.base.entries, createdDirs: j.base.createdDirs, run: null, base: null });
    else await this.root.remove(JOURNAL);
    return 'an interrupted install was rolled back: the files it had started to change are as they were before it';
  }

  async status(): Promise<Journal | null> {
    return this.readJournal();
  }

  async apply(plan: InstallPlan): Promise<{ changed: string[] }> {
    const steps = { n: 0 };
    const previous = await this.readJournal();
    if (previous && previous.phase !== 'applied') throw new WizardError('internal: recover() must run before apply()');
    const entries = new Map<string, Entry>((previous?.entries ?? []).map((e) => [e.path, e]));
    const runDirs = new Set<string>();
    for (const c of plan.changes) {
      const now = store(await this.root.state(c.path), c.path);
      const old = entries.get(c.path);
      entries.set(c.path, { path: c.path, prior: old ? old.prior : now, before: now, installed: installedOf(c) });
      // Directories this run will create, recorded before any is made.
      const parts = path.dirname(c.path).split('/').filter(Boolean);
      let cur = '';
      for (const part of parts) {
        cur += `/${part}`;
        if ((await this.root.state(cur)).type === 'absent') runDirs.add(cur);
      }
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
    await this.writeJournal(journal);
    faultPoint('apply', steps);
    for (const c of plan.changes) {
      await this.root.ensureParents(c.path);
      const cur = await this.root.state(c.path);
      // A symlink may only be replaced when it is one this tool put there.
      const ours = previous?.entries.some((e) => e.path === c.path && e.installed.type === 'symlink') ?? false;
      if (c.kind === 'symlink') {
        if (cur.type === 'file') await this.root.remove(c.path);
        await this.root.writeSymlink(c.path, c.target!, cur.type !== 'symlink' || ours || cur.target === '/dev/null');
      } else {
        await this.root.writeFile(c.path, c.content!, c.mode ?? 0o644, cur.type === 'file' ? { uid: cur.uid, gid: cur.gid } : undefined, ours);
      }
      faultPoint('apply', steps);
    }
    await this.writeJournal({ ...journal, phase: 'applied', run: null, base: null });
    faultPoint('apply', steps);
    return { changed: plan.changes.map((c) => c.path) };
  }

  /** What was changed by someone else since the install, as diffs. */
  async modifications(): Promise<string[]> {
    const j = await this.readJournal();
    if (!j) return [];
    const out: string[] = [];
    for (const e of j.entries) {
      const now = await this.root.state(e.path);
      if (matches(now, e.installed)) continue;
      const describe = (s: PathState) => (s.type === 'file' ? s.content.toString('utf8') : s.type === 'symlink' ? `symlink → ${s.target}\n` : '');
      out.push(createTwoFilesPatch(`${e.path} (as installed)`, `${e.path} (now)`, e.installed.type === 'symlink' ? `symlink → ${e.installed.target}\n` : `(file with sha256 ${e.installed.sha256.slice(0, 12)}…; contents not kept)\n`, describe(now)));
    }
    return out;
  }

  async revert(force: boolean): Promise<{ restored: string[] }> {
    const j = await this.readJournal();
    if (!j) throw new WizardError('nothing to revert: initrd-wizard has no install on record here', 1, `no ${JOURNAL} under ${this.root.dir}`);
    if (!force) {
      const mods = await this.modifications();
      if (mods.length) {
        throw new WizardError(`files changed since the install; not reverting over them:\n${mods.join('\n')}`, 1, 'keep your changes somewhere, then run `initrd-wizard revert --force` to restore every file as it was before the install');
      }
    }
    const steps = { n: 0 };
    await this.writeJournal({ ...j, phase: 'reverting' });
    faultPoint('revert', steps);
    await this.finishRevert(j, steps, true);
    return { restored: j.entries.map((e) => e.path) };
  }

  private async finishRevert(j: Journal, steps: { n: number }, faults: boolean): Promise<void> {
    for (const e of j.entries) {
      await this.root.restore(e.path, unstore(e.prior));
      if (faults) faultPoint('revert', steps);
    }
    for (const d of [...j.createdDirs].reverse()) await this.root.removeDirIfEmpty(d);
    await this.root.remove(JOURNAL);
    if (faults) faultPoint('revert', steps);
  }

  async cleanup(release: () => Promise<void>): Promise<void> {
    await release();
    await this.tidyStateDir();
  }
}
