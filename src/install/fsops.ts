/**
 * The one module that changes files on the host, always inside one root and
 * through the rooted primitives (src/system/rooted.ts): no link in any
 * directory on the way is followed, for reads, writes and deletes alike.
 *
 * A change is staged first (content written to a temp file beside the
 * target, fsynced), then committed (renamed over the target). The target's
 * previous version is kept as a hard link until the whole set is committed,
 * so a failure halfway is undone by renames and unlinks alone: undoing needs
 * no free space and writes no content. Every temp and kept name matches
 * TEMP_NAME, so recovery after a SIGKILL can sweep them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsc, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readlink, rename, rmdir, statfs, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { WizardError } from '../errors.js';
import { LIMITS, formatBytes } from '../limits.js';
import { kindOf, listBeneath, lstatBeneath, openChildDir, openDirBeneath, openRootDir, readBeneath, readEntry, shown, type DirHandle } from '../system/rooted.js';
import { errnoCode, fsError } from '../system/fserrors.js';
import { mutation } from './faults.js';

export type PathState =
  | { type: 'absent' }
  | { type: 'file'; content: Buffer; mode: number; uid: number; gid: number }
  | { type: 'symlink'; target: string }
  | { type: 'dir' }
  /** A FIFO, socket or device: never read, never replaced. */
  | { type: 'other'; kind: string };

/** What a path should become. */
export type Desired =
  | { type: 'absent' }
  | { type: 'file'; content: Buffer | string; mode: number; owner?: { uid: number; gid: number } }
  | { type: 'symlink'; target: string };

/** One staged change: commit it, and until finish() it can still be aborted (undone). */
export interface Step {
  readonly hostPath: string;
  commit(): Promise<void>;
  /** Before commit: drop the temp file. After commit: put the previous version back. */
  abort(): Promise<void>;
  /** After every step committed: drop the kept previous version. */
  finish(): Promise<void>;
}

/** Temp files and kept versions this module leaves beside a target while it works. */
export const TEMP_NAME = /^\..*\.iw-[0-9a-f]{12}$/;

function tempName(name: string): string {
  return `.${name.slice(0, 200)}.iw-${randomBytes(6).toString('hex')}`;
}

function absent(err: unknown): boolean {
  const c = errnoCode(err);
  return c === 'ENOENT' || c === 'ENOTDIR';
}


export interface StageOptions {
  /** A symlink at the target may be replaced (a mask this tool made). */
  replaceSymlink?: boolean;
  /** Keep the previous version in this directory (same file system) instead of beside the target. */
  keepIn?: string;
}

export interface PreflightWrite {
  hostPath: string;
  bytes: number;
}

export class Root {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** A host path inside the root, for messages and for external programs only; this module never opens it. */
  at(hostPath: string): string {
    if (!hostPath.startsWith('/') || hostPath.split('/').includes('..')) throw new WizardError(`internal: unsafe path ${hostPath}`);
    return path.join(this.dir, hostPath);
  }

  show(hostPath: string): string {
    return shown(this.dir, hostPath);
  }

  private check(hostPath: string): { parent: string; name: string } {
    if (!hostPath.startsWith('/') || hostPath.split('/').some((c) => c === '..' || c === '.') || hostPath === '/') throw new WizardError(`internal: unsafe path ${hostPath}`);
    return { parent: path.posix.dirname(hostPath), name: path.posix.basename(hostPath) };
  }

  /** The directory holding hostPath, opened without following links; null when it does not exist. */
  private async parentDir(hostPath: string): Promise<DirHandle | null> {
    return openDirBeneath(this.dir, this.check(hostPath).parent, 'never');
  }

  async state(hostPath: string): Promise<PathState> {
    const { name } = this.check(hostPath);
    const d = await this.parentDir(hostPath);
    if (!d) return { type: 'absent' };
    try {
      const st = await lstat(d.entry(name)).catch((err) => {
        if (absent(err)) return null;
        throw err;
      });
      if (!st) return { type: 'absent' };
      if (st.isSymbolicLink()) return { type: 'symlink', target: await readlink(d.entry(name)) };
      if (st.isDirectory()) return { type: 'dir' };
      if (!st.isFile()) return { type: 'other', kind: kindOf(st).replace(/^an? /, '') };
      const r = await readEntry(this.dir, d, name, { maxBytes: LIMITS.journaledFileBytes, what: 'a file initrd-wizard changes' });
      if (!r) return { type: 'absent' };
      return { type: 'file', content: r.data, mode: r.stat.mode & 0o7777, uid: r.stat.uid, gid: r.stat.gid };
    } finally {
      await d.close();
    }
  }

  /** A small text file (configuration, the journal); null when absent. Links are refused, not followed. */
  async readText(hostPath: string, maxBytes: number = LIMITS.configFileBytes): Promise<string | null> {
    this.check(hostPath);
    return (await readBeneath(this.dir, hostPath, { maxBytes, what: hostPath, follow: 'never' }))?.toString('utf8') ?? null;
  }

  /** The names in a directory inside the root, or [] when it does not exist. */
  async list(hostDir: string): Promise<string[]> {
    return (await listBeneath(this.dir, hostDir, 'never'))?.map((e) => e.name) ?? [];
  }

  /**
   * Creates the missing directories on the way to hostPath and returns them,
   * outermost first. On failure the ones it made are removed again.
   */
  async ensureParents(hostPath: string, mode = 0o755): Promise<string[]> {
    const parts = this.check(hostPath).parent.split('/').filter(Boolean);
    const created: string[] = [];
    let d = await openRootDir(this.dir);
    try {
      for (const part of parts) {
        let next = await openChildDir(this.dir, d, part);
        if (!next) {
          const here = path.posix.join(d.hostPath, part);
          mutation('mkdir', here);
          await mkdir(d.entry(part), { mode }).catch((err) => {
            if (errnoCode(err) !== 'EEXIST') throw err;
          });
          created.push(here);
          next = await openChildDir(this.dir, d, part);
          if (!next) throw new WizardError(`${this.show(here)} vanished right after it was created`);
          await next.chmod(mode);
          await d.sync();
        }
        await d.close();
        d = next;
      }
    } catch (err) {
      await d.close();
      for (const c of [...created].reverse()) await this.removeDirIfEmpty(c).catch(() => false);
      throw err;
    }
    await d.close();
    return created;
  }

  async removeDirIfEmpty(hostPath: string): Promise<boolean> {
    const { name } = this.check(hostPath);
    const d = await this.parentDir(hostPath);
    if (!d) return false;
    try {
      mutation('rmdir', hostPath);
      await rmdir(d.entry(name));
      await d.sync();
      return true;
    } catch (err) {
      if (absent(err)) return false;
      if (errnoCode(err) === 'ENOTEMPTY' || errnoCode(err) === 'EEXIST') return false;
      throw err;
    } finally {
      await d.close();
    }
  }

  async chmodDir(hostPath: string, mode: number): Promise<void> {
    const d = await openDirBeneath(this.dir, hostPath, 'never');
    if (!d) throw new WizardError(`${this.show(hostPath)} does not exist`);
    try {
      await d.chmod(mode);
    } finally {
      await d.close();
    }
  }

  /**
   * Stages one change. The parent directory must exist (ensureParents). A
   * symlink at the target is replaced only with `replaceSymlink` (a mask this
   * tool made); a directory, FIFO or device never.
   */
  async stage(hostPath: string, want: Desired, opts: StageOptions = {}): Promise<Step> {
    const { name } = this.check(hostPath);
    const d = await this.parentDir(hostPath);
    if (!d) throw new WizardError(`internal: ${hostPath}'s directory must exist before a change is staged`);
    // The previous version is kept beside the target, or in keepIn when the target's directory is to be removed.
    const kd = opts.keepIn ? await openDirBeneath(this.dir, opts.keepIn, 'never') : null;
    const keepDir = kd ?? d;
    const target = d.entry(name);
    let tmp: string | null = null;
    let cur: Stats | null;
    try {
      cur = await lstat(target).catch((err) => {
        if (absent(err)) return null;
        throw err;
      });
      if (cur?.isDirectory()) throw new WizardError(`${this.show(hostPath)} is a directory where initrd-wizard writes a file`, { hint: 'move it away, then run again' });
      if (cur && !cur.isFile() && !cur.isSymbolicLink()) throw new WizardError(`${this.show(hostPath)} is ${kindOf(cur)} where initrd-wizard writes a file`, { hint: 'move it away, then run again' });
      if (cur?.isSymbolicLink() && want.type !== 'absent' && !opts.replaceSymlink) {
        throw new WizardError(`${this.show(hostPath)} is a symlink: refusing to replace it`, { hint: 'point it back to a regular file or remove it, then run again' });
      }
      if (want.type === 'file') {
        tmp = tempName(name);
        mutation('create', hostPath);
        const fh = await open(d.entry(tmp), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, want.mode);
        try {
          mutation('write', hostPath);
          await fh.writeFile(want.content);
          await fh.chmod(want.mode);
          if (want.owner) await fh.chown(want.owner.uid, want.owner.gid);
          await fh.sync();
        } finally {
          await fh.close();
        }
      } else if (want.type === 'symlink') {
        tmp = tempName(name);
        mutation('symlink', hostPath);
        await symlink(want.target, d.entry(tmp));
      }
    } catch (err) {
      if (tmp) await unlink(d.entry(tmp)).catch(() => undefined);
      await d.close();
      await kd?.close();
      throw err;
    }
    let keep: string | null = null;
    let changed = false;
    const existed = cur !== null;
    return {
      hostPath,
      async commit() {
        if (existed) {
          keep = tempName(name);
          mutation('link', hostPath);
          await link(target, keepDir.entry(keep));
        }
        if (tmp) {
          mutation('rename', hostPath);
          await rename(d.entry(tmp), target);
          tmp = null;
          changed = true;
        } else if (existed) {
          mutation('unlink', hostPath);
          await unlink(target);
          changed = true;
        }
        await d.sync();
      },
      abort: async () => {
        if (changed) {
          // By path again: revert may have removed the directory and made it anew since.
          const now = await this.parentDir(hostPath);
          if (!now) throw new WizardError(`${this.show(path.posix.dirname(hostPath))} is gone: cannot put ${name} back`);
          try {
            if (keep) {
              await rename(keepDir.entry(keep), now.entry(name));
              keep = null;
            } else {
              await unlink(now.entry(name)).catch((err) => {
                if (!absent(err)) throw err;
              });
            }
            await now.sync();
          } finally {
            await now.close();
          }
          changed = false;
        }
        if (tmp) await unlink(d.entry(tmp)).catch(() => undefined);
        if (keep) await unlink(keepDir.entry(keep)).catch(() => undefined);
        tmp = keep = null;
        await d.sync().catch(() => undefined);
        await d.close();
        await kd?.close();
      },
      async finish() {
        if (keep) await unlink(keepDir.entry(keep)).catch(() => undefined);
        keep = null;
        await keepDir.sync().catch(() => undefined);
        await d.close();
        await kd?.close();
      },
    };
  }

  /** Do two directories inside the root sit on one file system (so a file can be linked from one into the other)? */
  async sameDevice(a: string, b: string): Promise<boolean> {
    const [sa, sb] = await Promise.all([lstatBeneath(this.dir, a, 'never'), lstatBeneath(this.dir, b, 'never')]);
    return sa !== null && sb !== null && sa.dev === sb.dev;
  }

  /** One change, committed at once (the journal, the lock-free single writes). */
  async put(hostPath: string, want: Desired, opts: StageOptions = {}): Promise<void> {
    const step = await this.stage(hostPath, want, opts);
    try {
      await step.commit();
    } catch (err) {
      await step.abort().catch(() => undefined);
      throw err;
    }
    await step.finish();
  }

  async writeFile(hostPath: string, content: Buffer | string, mode = 0o644): Promise<void> {
    await this.put(hostPath, { type: 'file', content, mode });
  }

  async remove(hostPath: string): Promise<void> {
    if ((await this.state(hostPath)).type === 'absent') return;
    await this.put(hostPath, { type: 'absent' });
  }

  /** Removes temp files and kept versions this module left in a directory (a process killed mid-change). */
  async sweepTemps(hostDir: string): Promise<string[]> {
    const d = await openDirBeneath(this.dir, hostDir, 'never').catch(() => null);
    if (!d) return [];
    const removed: string[] = [];
    try {
      for (const n of await readdir(d.self)) {
        if (!TEMP_NAME.test(n)) continue;
        const st = await lstat(d.entry(n)).catch(() => null);
        if (!st || st.isDirectory()) continue;
        mutation('unlink', `${hostDir}/${n}`);
        await unlink(d.entry(n));
        removed.push(path.posix.join(hostDir, n));
      }
      if (removed.length) await d.sync();
    } finally {
      await d.close();
    }
    return removed;
  }

  /**
   * Can every write succeed? Checked before the first change: each target
   * directory (or the nearest one that exists) is a real directory that
   * accepts a new file, no existing target is immutable, and each file system
   * has room for the writes. Returns the problems in words; changes nothing
   * that outlives the call.
   */
  async preflight(writes: PreflightWrite[]): Promise<string[]> {
    const problems: string[] = [];
    const needByDevice = new Map<number, { need: number; avail: number; where: string }>();
    const seenDirs = new Set<string>();
    for (const w of writes) {
      const { parent, name } = this.check(w.hostPath);
      let d: DirHandle;
      try {
        d = await this.nearestDir(parent);
      } catch (err) {
        problems.push(err instanceof WizardError ? err.message : fsError(err, `checking ${this.show(parent)}`).message);
        continue;
      }
      try {
        if (!seenDirs.has(d.hostPath)) {
          seenDirs.add(d.hostPath);
          const probe = d.entry(tempName('initrd-wizard-probe'));
          try {
            const fh = await open(probe, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
            await fh.close();
            await unlink(probe);
          } catch (err) {
            problems.push(`${this.show(d.hostPath)} does not accept new files: ${fsError(err, 'creating a file').message.replace(/^creating a file failed: /, '')}`);
            continue;
          }
        }
        if (d.hostPath === parent) {
          const target = d.entry(name);
          const st = await lstat(target).catch(() => null);
          if (st?.isFile()) {
            // link(2) refuses an immutable or append-only file with EPERM: a probe that changes nothing.
            const probe = d.entry(tempName(name));
            try {
              await link(target, probe);
              await unlink(probe);
            } catch (err) {
              if (errnoCode(err) === 'EPERM') problems.push(`${this.show(w.hostPath)} is immutable or append-only (lsattr shows i or a): it cannot be replaced`);
            }
          }
        }
        const dev = (await lstat(d.self)).dev;
        const fsInfo = await statfs(d.self);
        const block = Number(fsInfo.bsize) || 4096;
        const e = needByDevice.get(dev) ?? { need: 0, avail: Number(fsInfo.bavail) * block, where: d.hostPath };
        // Content rounded up to whole blocks, one more for the directory entry and the kept version's inode.
        e.need += Math.ceil(w.bytes / block) * block + block;
        needByDevice.set(dev, e);
      } finally {
        await d.close();
      }
    }
    for (const { need, avail, where } of needByDevice.values()) {
      if (need > avail) problems.push(`not enough free space on the file system of ${this.show(where)}: ${formatBytes(need)} needed, ${formatBytes(avail)} available`);
    }
    return problems;
  }

  /** The directory itself, or the nearest ancestor that exists (where its missing parents would be created). */
  private async nearestDir(hostDir: string): Promise<DirHandle> {
    let d = await openRootDir(this.dir);
    for (const part of hostDir.split('/').filter(Boolean)) {
      const next = await openChildDir(this.dir, d, part).catch(async (err) => {
        await d.close();
        throw err;
      });
      if (!next) return d;
      await d.close();
      d = next;
    }
    return d;
  }
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
