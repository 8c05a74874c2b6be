/**
 * The one way to reach a path inside a root (`--root DIR`, a snapshot, an
 * rpm-md repository): never outside it, whatever links the tree holds.
 *
 * Node has no openat2(), so resolution walks the path one component at a
 * time, each opened relative to its parent's file descriptor through
 * /proc/self/fd/N/NAME with O_NOFOLLOW: a component swapped for a symlink
 * between two steps is refused instead of followed. Two policies:
 * - 'never': a symlink anywhere on the way is an error (what install writes,
 *   what revert deletes, snapshots, repositories);
 * - 'in-root': symlinks are followed as if the root were "/" (RESOLVE_IN_ROOT:
 *   absolute targets restart at the root, ".." stops there), for reading a
 *   distribution tree whose /etc/os-release points into /usr/lib.
 * Files are opened non-blocking and must be regular (a FIFO would hang a
 * read, /dev/zero would never end), and every read is capped.
 */
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readlinkSync, readSync, type Dirent, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InputError, WizardError } from '../errors.js';
import { formatBytes } from '../limits.js';

export type Follow = 'never' | 'in-root';

/** A link or ".." would lead outside the root, or a link sits where none may. */
export class UnsafePathError extends InputError {
  override readonly name = 'UnsafePathError';
}

/** Something other than a regular file sits where one is read. */
export class NotRegularFileError extends InputError {
  override readonly name = 'NotRegularFileError';
}

/** A file larger than the limit for what it should be. */
export class TooLargeError extends InputError {
  override readonly name = 'TooLargeError';
}

const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;
const FILE_FLAGS = fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK | fsc.O_NOCTTY;

/** An open directory inside a root; `entry(name)` names a child relative to it for any fs call. */
export interface DirHandle {
  /** The directory as a path inside the root ("/etc/kernel"). */
  readonly hostPath: string;
  /** A path that reaches the child `name` of this very directory, for any fs call. */
  entry(name: string): string;
  /** The directory itself, as a path (statfs, readdir). */
  readonly self: string;
  /** fsync the directory, so renames and unlinks in it are durable. */
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
  close(): Promise<void>;
}

/** The child `name` of the directory open as `fd`, as a path any fs call takes: one plain name, never a path. */
function fdEntry(fd: number, name: string): string {
  if (!name || name === '.' || name === '..' || name.includes('/')) throw new UnsafePathError(`internal: not a file name: ${JSON.stringify(name)}`);
  return `/proc/self/fd/${fd}/${name}`;
}

class Dir implements DirHandle {
  constructor(readonly fh: FileHandle, readonly hostPath: string) {}
  entry(name: string): string {
    return fdEntry(this.fh.fd, name);
  }
  get self(): string {
    return `/proc/self/fd/${this.fh.fd}`;
  }
  sync(): Promise<void> {
    return this.fh.sync();
  }
  chmod(mode: number): Promise<void> {
    return this.fh.chmod(mode);
  }
  close(): Promise<void> {
    return this.fh.close().catch(() => undefined);
  }
}

/** Opens the root directory itself (a link naming the root is the caller's choice). */
export async function openRootDir(root: string): Promise<DirHandle> {
  const fh = await open(root, fsc.O_RDONLY | fsc.O_DIRECTORY).catch((err: NodeJS.ErrnoException) => {
    if (isAbsent(err)) throw new InputError(`${root} does not exist or is not a directory`, 'pass an existing directory');
    throw err;
  });
  // Every step below goes through /proc/self/fd: without /proc, lookups would all say "absent".
  if (!(await lstat(`/proc/self/fd/${fh.fd}`).catch(() => null))) {
    await fh.close();
    throw new WizardError('/proc is not mounted: initrd-wizard resolves paths through /proc/self/fd and cannot work safely without it', { hint: 'mount /proc (mount -t proc proc /proc), then run again' });
  }
  return new Dir(fh, '/');
}

/** Opens the child directory `name` of `dir` without following a link; null when absent. */
export async function openChildDir(root: string, dir: DirHandle, name: string): Promise<DirHandle | null> {
  const here = path.posix.join(dir.hostPath, name);
  try {
    return new Dir(await open(dir.entry(name), DIR_FLAGS), here);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      const st = await lstat(dir.entry(name)).catch(() => null);
      if (st?.isSymbolicLink()) {
        const target = await readlink(dir.entry(name)).catch(() => '?');
        throw new UnsafePathError(`${shown(root, here)} is a symlink (to ${target}): initrd-wizard does not follow links inside ${root === '/' ? 'the directories it changes' : root}`, 'replace the link with a real directory, then run again');
      }
      throw new InputError(`${shown(root, here)} is not a directory`, 'move it away, then run again');
    }
    throw err;
  }
}

/** Opens `name` in `dir` for reading if it is a regular file (never a link, FIFO or device), capped. */
export async function readEntry(root: string, dir: DirHandle, name: string, o: Omit<ReadOptions, 'follow'>): Promise<{ data: Buffer; stat: Stats } | null> {
  const display = shown(root, path.posix.join(dir.hostPath, name));
  if ((await refuseSpecial(dir.entry(name), display, o)) === 'absent') return null;
  let fh: FileHandle;
  try {
    fh = await open(dir.entry(name), FILE_FLAGS);
  } catch (err) {
    if (isAbsent(err)) return null;
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new UnsafePathError(`${display} changed into a symlink while being opened`, 'run again once nothing else changes that tree');
    throw err;
  }
  try {
    return await readCapped(fh, display, o);
  } finally {
    await fh.close();
  }
}

function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** What a non-regular file is, for messages: "a FIFO", "a symlink" … */
export function kindOf(st: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket' | 'isSymbolicLink'>): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

/** "/etc/kernel" shown with its root, for messages. */
export function shown(root: string, hostPath: string): string {
  return root === '/' ? hostPath : path.join(root, hostPath);
}

function components(hostPath: string): string[] {
  return hostPath.split('/').filter((c) => c && c !== '.');
}

export interface Resolved {
  /** The directory holding the final component (the root itself for "/"). */
  parent: DirHandle;
  /** The final component; null when the path is the root. */
  name: string | null;
  /** The path as resolved inside the root (links followed under 'in-root'). */
  hostPath: string;
}

/**
 * Resolves every directory on the way to hostPath. Returns null when one is
 * missing or not a directory. Under 'in-root' a final symlink is followed
 * too; under 'never' it is left for the caller to see with lstat.
 */
export async function resolveBeneath(root: string, hostPath: string, follow: Follow = 'never', hops = 40): Promise<Resolved | null> {
  // The stack of open directories from the root down; stack[0] is the root.
  const stack: Dir[] = [(await openRootDir(root)) as Dir];
  const closeAll = async (keep?: Dir) => {
    for (const d of stack) if (d !== keep) await d.close();
  };
  let todo = components(hostPath);
  let followed = 0;
  try {
    while (todo.length) {
      const part = todo[0]!;
      const last = todo.length === 1;
      const top = stack[stack.length - 1]!;
      if (part === '..') {
        if (follow === 'never') throw new UnsafePathError(`${shown(root, hostPath)}: ".." is not allowed in a path inside ${root}`, 'name the file without ".."');
        if (stack.length > 1) await stack.pop()!.close();
        todo = todo.slice(1);
        continue;
      }
      let st: Stats;
      try {
        st = await lstat(top.entry(part));
      } catch (err) {
        if (isAbsent(err) && last) {
          await closeAll(top);
          return { parent: top, name: part, hostPath: path.posix.join(top.hostPath, part) };
        }
        if (isAbsent(err)) {
          await closeAll();
          return null;
        }
        throw err;
      }
      if (st.isSymbolicLink()) {
        const here = path.posix.join(top.hostPath, part);
        if (follow === 'never') {
          if (last) {
            await closeAll(top);
            return { parent: top, name: part, hostPath: here };
          }
          const target = await readlink(top.entry(part)).catch(() => '?');
          throw new UnsafePathError(
            `${shown(root, here)} is a symlink (to ${target}): initrd-wizard does not follow links inside ${root === '/' ? 'the directories it changes' : root}`,
            `replace the link with a real directory, or point the command at the tree it leads to`,
          );
        }
        if (++followed > hops) throw new UnsafePathError(`${shown(root, hostPath)}: more than ${hops} symlinks on the way (a loop?)`, 'fix the links in that tree');
        const target = await readlink(top.entry(part));
        if (target.startsWith('/')) {
          await closeAll(stack[0]);
          stack.splice(1);
        }
        todo = [...target.split('/').filter((c) => c && c !== '.'), ...todo.slice(1)];
        continue;
      }
      if (last) {
        await closeAll(top);
        return { parent: top, name: part, hostPath: path.posix.join(top.hostPath, part) };
      }
      if (!st.isDirectory()) {
        await closeAll();
        return null;
      }
      const fh = await open(top.entry(part), DIR_FLAGS).catch((err: NodeJS.ErrnoException) => {
        // Swapped for a link since the lstat above: refuse, never follow.
        if (err.code === 'ELOOP' || err.code === 'ENOTDIR') throw new UnsafePathError(`${shown(root, path.posix.join(top.hostPath, part))} changed while being opened`, 'run again once nothing else changes that tree');
        throw err;
      });
      stack.push(new Dir(fh, path.posix.join(top.hostPath, part)));
      todo = todo.slice(1);
    }
    const top = stack[stack.length - 1]!;
    await closeAll(top);
    return { parent: top, name: null, hostPath: top.hostPath };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** lstat of a path inside the root (no link followed at the end); null when absent. */
export async function lstatBeneath(root: string, hostPath: string, follow: Follow = 'never'): Promise<Stats | null> {
  const r = await resolveBeneath(root, hostPath, follow);
  if (!r) return null;
  try {
    if (r.name === null) return await lstat(root);
    return await lstat(r.parent.entry(r.name)).catch((err) => {
      if (isAbsent(err)) return null;
      throw err;
    });
  } finally {
    await r.parent.close();
  }
}

/** Opens a directory inside the root; null when absent. */
export async function openDirBeneath(root: string, hostDir: string, follow: Follow = 'never'): Promise<DirHandle | null> {
  const r = await resolveBeneath(root, hostDir, follow);
  if (!r) return null;
  if (r.name === null) return r.parent;
  try {
    const fh = await open(r.parent.entry(r.name), DIR_FLAGS);
    return new Dir(fh, r.hostPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (isAbsent(err)) return null;
    if (code === 'ELOOP') {
      const target = await readlink(r.parent.entry(r.name)).catch(() => '?');
      throw new UnsafePathError(`${shown(root, r.hostPath)} is a symlink (to ${target}): initrd-wizard does not follow links inside ${root === '/' ? 'the directories it changes' : root}`, 'replace the link with a real directory');
    }
    throw err;
  } finally {
    await r.parent.close();
  }
}

/** The names in a directory inside the root; null when absent. */
export async function listBeneath(root: string, hostDir: string, follow: Follow = 'never'): Promise<Dirent[] | null> {
  const d = await openDirBeneath(root, hostDir, follow);
  if (!d) return null;
  try {
    return await readdir(d.self, { withFileTypes: true });
  } finally {
    await d.close();
  }
}

export interface ReadOptions {
  /** The largest size accepted; larger is a TooLargeError. */
  maxBytes: number;
  /** What the file is, for messages ("a snapshot probe output"). */
  what?: string;
  follow?: Follow;
}

/**
 * Refuses a path that is not a regular file before it is opened: opening a
 * device node can itself do something (a watchdog starts counting down).
 */
async function refuseSpecial(entry: string, display: string, o: Pick<ReadOptions, 'what'>): Promise<'absent' | 'file'> {
  const st = await lstat(entry).catch((err) => {
    if (isAbsent(err)) return null;
    throw err;
  });
  if (!st) return 'absent';
  if (st.isSymbolicLink()) throw linkRefused(display, await readlink(entry).catch(() => '?'), o);
  if (!st.isFile()) throw notRegularFile(display, st, o);
  return 'file';
}

function linkRefused(display: string, target: string, o: Pick<ReadOptions, 'what'>): UnsafePathError {
  return new UnsafePathError(`${display} is a symlink (to ${target}): not followed`, `${o.what ? `${o.what} must be a regular file; ` : ''}replace the link with the file itself`);
}

function notRegularFile(display: string, st: Stats, o: Pick<ReadOptions, 'what'>): NotRegularFileError {
  return new NotRegularFileError(`${display} is ${kindOf(st)}, not a regular file`, `${o.what ? `${o.what} must be a regular file; ` : ''}replace it with the real file`);
}

function tooLargeFile(display: string, size: string, o: ReadOptions): TooLargeError {
  return new TooLargeError(`${display} is ${size}, more than the ${formatBytes(o.maxBytes)} accepted for ${o.what ?? 'this file'}`, 'check that it is the right file; it does not look like one this tool reads');
}

/** How much the next read asks for: the first sized to the file (most are small), then 1 MiB at a time, never past the cap. */
function nextReadSize(total: number, size: number, maxBytes: number): number {
  return Math.max(Math.min(total === 0 ? Math.max(size + 1, 4096) : 1 << 20, 1 << 20, maxBytes + 1 - total), 1);
}

/** Reads an open regular file to its end, refusing past maxBytes (a file may grow while read). */
async function readCapped(fh: FileHandle, display: string, o: ReadOptions): Promise<{ data: Buffer; stat: Stats }> {
  const st = await fh.stat();
  if (!st.isFile()) throw notRegularFile(display, st, o);
  if (st.size > o.maxBytes) throw tooLargeFile(display, formatBytes(st.size), o);
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(nextReadSize(total, st.size, o.maxBytes));
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    total += bytesRead;
    if (total > o.maxBytes) throw tooLargeFile(display, `over ${formatBytes(o.maxBytes)}`, o);
  }
  return { data: Buffer.concat(chunks, total), stat: st };
}

/** A regular file inside the root, read whole up to maxBytes; null when absent. */
export async function readBeneath(root: string, hostPath: string, o: ReadOptions): Promise<Buffer | null> {
  const r = await resolveBeneath(root, hostPath, o.follow ?? 'never');
  if (!r) return null;
  try {
    if (r.name === null) throw new NotRegularFileError(`${root} is a directory, not a regular file`);
    return (await readEntry(root, r.parent, r.name, o))?.data ?? null;
  } finally {
    await r.parent.close();
  }
}

/**
 * A file the user named directly (a cache file, an image): links in the path
 * are the user's choice, but it must be a regular file and within the cap.
 * Null when absent.
 */
export async function readRegularFile(file: string, o: Omit<ReadOptions, 'follow'>): Promise<Buffer | null> {
  const st = await stat(file).catch((err) => {
    if (isAbsent(err)) return null;
    throw err;
  });
  if (!st) return null;
  if (!st.isFile()) throw new NotRegularFileError(`${file} is ${kindOf(st)}, not a regular file`, `${o.what ? `${o.what} must be a regular file; ` : ''}replace it with the real file`);
  let fh: FileHandle;
  try {
    fh = await open(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
  try {
    return (await readCapped(fh, file, o)).data;
  } finally {
    await fh.close();
  }
}

/*
 * Synchronous reads, for loading thousands of snapshots (fleet): each
 * snapshot is a few dozen small files, and the promise API's cost per call
 * (a FileHandle, a Stats, a trip through the thread pool) was most of the
 * time. The same rules as above: directories entered through open
 * descriptors and /proc/self/fd, no link followed, only regular files read,
 * every read capped.
 */

/** An open directory, held by a plain descriptor. */
export interface SyncDirHandle {
  entry(name: string): string;
  readonly self: string;
  close(): void;
}

class SyncDir implements SyncDirHandle {
  constructor(readonly fd: number) {}
  entry(name: string): string {
    return fdEntry(this.fd, name);
  }
  get self(): string {
    return `/proc/self/fd/${this.fd}`;
  }
  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed: nothing held
    }
  }
}

/** openRootDir, synchronously. */
export function openRootDirSync(root: string): SyncDirHandle {
  let fd: number;
  try {
    fd = openSync(root, fsc.O_RDONLY | fsc.O_DIRECTORY);
  } catch (err) {
    if (isAbsent(err)) throw new InputError(`${root} does not exist or is not a directory`, 'pass an existing directory');
    throw err;
  }
  const dir = new SyncDir(fd);
  try {
    lstatSync(dir.self);
  } catch {
    dir.close();
    throw new WizardError('/proc is not mounted: initrd-wizard resolves paths through /proc/self/fd and cannot work safely without it', { hint: 'mount /proc (mount -t proc proc /proc), then run again' });
  }
  return dir;
}

/** The child directory `name` of `dir`, never through a link; null when absent (or no longer a directory). */
export function openChildDirSync(dir: SyncDirHandle, name: string): SyncDirHandle | null {
  try {
    return new SyncDir(openSync(dir.entry(name), DIR_FLAGS));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw err;
  }
}

/**
 * Reads `name` in `dir`, which the caller has seen with lstat to be a regular
 * file: opened without following a link and without blocking, checked again
 * on the descriptor, read to its end within the cap. Null when it vanished.
 */
export function readListedFileSync(dir: SyncDirHandle, name: string, display: string, o: SyncReadOptions): Buffer | null {
  let fd: number;
  try {
    fd = openSync(dir.entry(name), FILE_FLAGS);
  } catch (err) {
    if (isAbsent(err)) return null;
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefused(display, readlinkQuiet(dir.entry(name)), o);
    throw err;
  }
  return readFdSync(fd, display, o);
}

/** readRegularFile, synchronously: a file the user named (links in its path are their choice); null when absent. */
export function readRegularFileSync(file: string, o: SyncReadOptions): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
  return readFdSync(fd, file, o);
}

export interface SyncReadOptions extends Omit<ReadOptions, 'follow'> {
  /**
   * Told the size the open file has before a byte is read (to count it
   * against a budget, or refuse it); the read then stops at that size, so
   * what was admitted is what is kept, even if the file grows meanwhile.
   */
  admit?: (size: number) => void;
}

/** Reads an open file to its end within the cap, and closes it. */
function readFdSync(fd: number, display: string, o: SyncReadOptions): Buffer {
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegularFile(display, st, o);
    if (st.size > o.maxBytes) throw tooLargeFile(display, formatBytes(st.size), o);
    if (o.admit) {
      o.admit(st.size);
      o = { ...o, maxBytes: st.size, what: `${o.what ?? 'this file'} when it was opened (it changed while being read)` };
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(nextReadSize(total, st.size, o.maxBytes));
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      chunks.push(buf.subarray(0, got));
      total += got;
      if (total > o.maxBytes) throw tooLargeFile(display, `over ${formatBytes(o.maxBytes)}`, o);
      // A regular file that filled less than was asked is at its end: no second call to learn it.
      if (got < buf.length && total >= st.size) break;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function readlinkQuiet(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '?';
  }
}
