/**
 * The one module that changes files on the host. Every write goes to a temp
 * file created exclusively in the same directory, is fsynced, renamed over the
 * target and the directory fsynced; nothing is ever written through a symlink
 * (lstat first, O_NOFOLLOW on opens); paths stay inside the chosen root.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readFile, readlink, rename, rmdir, symlink, unlink, chmod } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { WizardError } from '../errors.js';


export type PathState =
  | { type: 'absent' }
  | { type: 'file'; content: Buffer; mode: number; uid: number; gid: number }
  | { type: 'symlink'; target: string }
  | { type: 'dir' };

export class Root {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** A host path ("/etc/kernel/install.conf") inside the root. */
  at(hostPath: string): string {
    if (!hostPath.startsWith('/') || hostPath.split('/').includes('..')) throw new WizardError(`internal: unsafe path ${hostPath}`);
    return path.join(this.dir, hostPath);
  }

  async state(hostPath: string): Promise<PathState> {
    const p = this.at(hostPath);
    const st = await lstat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
      throw err;
    });
    if (!st) return { type: 'absent' };
    if (st.isSymbolicLink()) return { type: 'symlink', target: await readlink(p) };
    if (st.isDirectory()) return { type: 'dir' };
    const fh = await open(p, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      return { type: 'file', content: await fh.readFile(), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    } finally {
      await fh.close();
    }
  }

  /** Refuses when a directory on the way to hostPath (below the root) is a symlink. */
  private async checkParents(hostPath: string): Promise<string[]> {
    const missing: string[] = [];
    const parts = path.dirname(hostPath).split('/').filter(Boolean);
    let cur = '';
    for (const part of parts) {
      cur += `/${part}`;
      const st = await lstat(this.at(cur)).catch(() => null);
      if (!st) missing.push(cur);
      else if (st.isSymbolicLink()) throw new WizardError(`${cur} is a symlink: refusing to write ${hostPath} through it`, 1, `check where ${cur} points; initrd-wizard only writes to real directories`);
      else if (!st.isDirectory()) throw new WizardError(`${cur} is not a directory, so ${hostPath} cannot be written`);
    }
    return missing;
  }

  /** Creates the missing parent directories (0755) and returns them, outermost first. */
  async ensureParents(hostPath: string): Promise<string[]> {
    const missing = await this.checkParents(hostPath);
    for (const d of missing) {
      await mkdir(this.at(d), { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      await chmod(this.at(d), 0o755);
      await this.syncDir(path.dirname(d));
    }
    return missing;
  }

  async syncDir(hostDir: string): Promise<void> {
    const fh = await open(this.at(hostDir), fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private tempName(hostPath: string): string {
    return path.join(path.dirname(hostPath), `.${path.basename(hostPath)}.iw-${randomBytes(6).toString('hex')}`);
  }

  private async refuseForeignSymlink(hostPath: string, allowSymlink: boolean) {
    const st = await lstat(this.at(hostPath)).catch(() => null);
    if (st?.isSymbolicLink() && !allowSymlink) {
      throw new WizardError(`${hostPath} is a symlink: refusing to replace it`, 1, `point it back to a regular file or remove it, then run again`);
    }
    if (st?.isDirectory()) throw new WizardError(`${hostPath} is a directory where a file belongs`);
  }

  /** Writes a file atomically. `replaceSymlink`: the path is a symlink this tool created (a mask) and may go. */
  async writeFile(hostPath: string, content: Buffer | string, mode = 0o644, owner?: { uid: number; gid: number }, replaceSymlink = false): Promise<void> {
    await this.checkParents(hostPath);
    await this.refuseForeignSymlink(hostPath, replaceSymlink);
    const tmp = this.tempName(hostPath);
    const fh = await open(this.at(tmp), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
    try {
      await fh.writeFile(content);
      await fh.chmod(mode);
      if (owner) await fh.chown(owner.uid, owner.gid);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await unlink(this.at(tmp)).catch(() => undefined);
      throw err;
    }
    await fh.close();
    await rename(this.at(tmp), this.at(hostPath));
    await this.syncDir(path.dirname(hostPath));
  }

  async writeSymlink(hostPath: string, target: string, replaceSymlink = true): Promise<void> {
    await this.checkParents(hostPath);
    const st = await lstat(this.at(hostPath)).catch(() => null);
    if (st && !st.isSymbolicLink()) throw new WizardError(`${hostPath} exists and is not a symlink: refusing to replace it with a mask`, 1, 'move it away, then run again');
    if (st?.isSymbolicLink() && !replaceSymlink) throw new WizardError(`${hostPath} is a symlink this tool did not create`);
    const tmp = this.tempName(hostPath);
    await symlink(target, this.at(tmp));
    await rename(this.at(tmp), this.at(hostPath));
    await this.syncDir(path.dirname(hostPath));
  }

  async remove(hostPath: string): Promise<void> {
    const st = await lstat(this.at(hostPath)).catch(() => null);
    if (!st) return;
    if (st.isDirectory()) throw new WizardError(`internal: ${hostPath} is a directory`);
    await unlink(this.at(hostPath));
    await this.syncDir(path.dirname(hostPath));
  }

  async removeDirIfEmpty(hostPath: string): Promise<boolean> {
    try {
      await rmdir(this.at(hostPath));
      await this.syncDir(path.dirname(hostPath));
      return true;
    } catch {
      return false;
    }
  }

  /** Puts a path back exactly as recorded. */
  async restore(hostPath: string, prior: PathState): Promise<void> {
    const now = await this.state(hostPath);
    if (prior.type === 'absent') {
      if (now.type === 'file' || now.type === 'symlink') await this.remove(hostPath);
      return;
    }
    if (prior.type === 'symlink') {
      if (now.type === 'symlink' && now.target === prior.target) return;
      if (now.type === 'file') await this.remove(hostPath);
      await this.writeSymlink(hostPath, prior.target);
      return;
    }
    if (prior.type === 'file') {
      if (now.type === 'symlink') await this.remove(hostPath);
      await this.writeFile(hostPath, prior.content, prior.mode, { uid: prior.uid, gid: prior.gid });
    }
  }

  async readText(hostPath: string): Promise<string | null> {
    return readFile(this.at(hostPath), 'utf8').catch(() => null);
  }
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
