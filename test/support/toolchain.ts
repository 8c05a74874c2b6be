/**
 * The toolchains users run, as chroots on this Debian 12 machine
 * (shared/docs/toolchains.md): bookworm is the host itself; trixie and sid
 * are made once by test/toolchains/make-chroot.sh and reused.
 *
 * `inChroot` runs a command inside with /proc, /sys and /dev mounted, the
 * project bind-mounted at /proj and the host's node on PATH, and undoes the
 * mounts afterwards, so nothing of the chroot leaks into the host's mount
 * table between tests.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers.js';

const exec = promisify(execFile);

export type Suite = 'trixie' | 'sid';

export interface Toolchain {
  name: 'bookworm' | Suite;
  /** '/' for the host itself. */
  root: string;
  mkosi: string;
  systemd: string;
}

/** Makes the chroot unless it is there (a few minutes the first time). */
export async function ensureChroot(suite: Suite, dir = `/var/tmp/tc-${suite}`): Promise<string> {
  const { stdout } = await exec('bash', [path.join(ROOT, 'test/toolchains/make-chroot.sh'), suite, dir], { maxBuffer: 64 << 20, timeout: 1_800_000 });
  return stdout.trim().split('\n').pop()!;
}

const mounted = (root: string) => exec('findmnt', ['-rn', '-o', 'TARGET']).then(({ stdout }) => stdout.split('\n').filter((t) => t === root || t.startsWith(root + '/')));

async function mountAll(root: string, project: string): Promise<void> {
  await mkdir(path.join(root, 'proj'), { recursive: true });
  await mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
  const node = path.join(root, 'usr/local/bin/node');
  if (!(await stat(node).catch(() => null))) await copyFile(process.execPath, node);
  const m = (args: string[]) => exec('mount', args);
  // The chroot's / must be a mount point, as on a real machine: unshare --propagation and mkosi's sandbox need it.
  await m(['--bind', root, root]);
  await m(['--make-private', root]);
  await m(['--bind', project, path.join(root, 'proj')]);
  await m(['-t', 'proc', 'proc', path.join(root, 'proc')]);
  await m(['--rbind', '/sys', path.join(root, 'sys')]);
  await m(['--make-rslave', path.join(root, 'sys')]);
  await m(['--rbind', '/dev', path.join(root, 'dev')]);
  await m(['--make-rslave', path.join(root, 'dev')]);
  await mkdir(path.join(root, 'run'), { recursive: true });
  await m(['-t', 'tmpfs', 'tmpfs', path.join(root, 'run')]);
}

async function unmountAll(root: string): Promise<void> {
  // Deepest first; lazily, so a straggling process cannot keep the host's /dev pinned under the chroot.
  const targets = (await mounted(root)).sort((a, b) => b.length - a.length);
  for (const t of targets) await exec('umount', ['-l', t]).catch(() => undefined);
}

export interface ChrootRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` inside the chroot (cwd /proj) and returns its output; never throws on a non-zero exit. */
export async function inChroot(root: string, argv: string[], opts: { project?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ChrootRun> {
  await unmountAll(root);
  await mountAll(root, opts.project ?? ROOT);
  try {
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', TERM: 'dumb', ...opts.env };
    const r = await exec('chroot', [root, 'env', '-C', '/proj', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], {
      maxBuffer: 256 << 20,
      timeout: opts.timeoutMs ?? 1_800_000,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    }).then(
      (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
      (e: { code?: number | string; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${typeof e.code === 'number' ? '' : String(e)}` }),
    );
    return r;
  } finally {
    await unmountAll(root);
  }
}

/**
 * A private, writable copy of a toolchain chroot (the bench installs initramfs-tools and dracut into it, which
 * must not happen to the shared chroots other tests use). Made once and reused: the copy is assembled in
 * DST.partial and renamed when complete. Whatever is mounted in the source (another test's /proc, /sys, /dev,
 * /run, /proj) is not copied; those directories are created empty.
 */
export async function copyChroot(src: string, dst: string): Promise<string> {
  if (await stat(path.join(dst, 'etc/os-release')).catch(() => null)) return dst;
  const partial = `${dst}.partial`;
  if ((await mounted(partial)).length) throw new Error(`${partial} has mounts; unmount them first`);
  await exec('rm', ['-rf', '--one-file-system', partial]);
  await mkdir(partial, { recursive: true });
  const busy = new Set((await mounted(src)).filter((t) => t !== src).map((t) => t.slice(src.length + 1).split('/')[0]!));
  for (const d of ['proc', 'sys', 'dev', 'run', 'proj']) busy.add(d);
  for (const e of await readdir(src)) {
    if (busy.has(e)) await mkdir(path.join(partial, e), { recursive: true });
    else await exec('cp', ['-a', path.join(src, e), partial + '/'], { maxBuffer: 64 << 20 });
  }
  await exec('mv', ['-T', partial, dst]);
  return dst;
}

/**
 * A plain bookworm chroot (for generators that must not be installed on the host, such as bookworm's dracut,
 * which conflicts with its initramfs-tools) holding the host's kernel modules for `kver`. Made once and reused.
 */
export async function ensureBookwormChroot(dir: string, kver: string, include: string[]): Promise<string> {
  if (!(await stat(path.join(dir, 'etc/os-release')).catch(() => null))) {
    const partial = `${dir}.partial`;
    if ((await mounted(partial)).length) throw new Error(`${partial} has mounts; unmount them first`);
    await exec('rm', ['-rf', '--one-file-system', partial]);
    const sources = await exec('awk', ['/^URIs:/{print $2; exit}', '/etc/apt/sources.list.d/debian.sources']).then((r) => r.stdout.trim(), () => '');
    const mirror = sources || 'http://deb.debian.org/debian';
    await exec('mmdebstrap', ['--variant=apt', '--aptopt=Acquire::Check-Valid-Until "false"', `--include=${include.join(',')}`, '--skip=cleanup/apt/lists', 'bookworm', partial, `deb ${mirror} bookworm main`], {
      maxBuffer: 64 << 20,
      timeout: 1_800_000,
      env: { ...process.env, INITRD: 'No' },
    });
    await exec('mv', ['-T', partial, dir]);
  }
  const modules = path.join(dir, 'usr/lib/modules', kver);
  if (!(await stat(path.join(modules, 'modules.dep')).catch(() => null))) {
    await mkdir(path.dirname(modules), { recursive: true });
    await exec('cp', ['-a', `/usr/lib/modules/${kver}`, path.dirname(modules) + '/']);
  }
  // initramfs-tools reads the kernel's configuration (which compressors it can unpack) from /boot.
  await mkdir(path.join(dir, 'boot'), { recursive: true });
  for (const f of [`config-${kver}`, `System.map-${kver}`]) {
    if (!(await stat(path.join(dir, 'boot', f)).catch(() => null)) && (await stat(`/boot/${f}`).catch(() => null))) await copyFile(`/boot/${f}`, path.join(dir, 'boot', f));
  }
  return dir;
}
