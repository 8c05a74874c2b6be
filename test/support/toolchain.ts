/**
 * The toolchains users run, as chroots on this Debian 12 machine
 * (shared/docs/toolchains.md): bookworm is the host itself; trixie and sid
 * are made once by test/toolchains/make-chroot.sh and reused.
 *
 * `inChroot` runs a command inside with /proc, /sys and /dev mounted, the
 * project bind-mounted at /proj and the host's node on PATH, all in a private
 * mount namespace, so nothing of the chroot leaks into the host's mount table.
 * `copyChroot` makes a throwaway copy for a test that changes the chroot.
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

/**
 * Inside a private mount namespace (`unshare --mount`): the chroot's own
 * directory bind-mounted onto itself (mkosi 25's sandbox remounts "/" as a
 * slave, which fails with EINVAL when the chroot's root is no mount point),
 * the project at /proj, proc, sys, dev and a tmpfs /run.
 */
const SETUP = `set -eu
r=$ROOT
mount --bind "$r" "$r"
mount --bind "$PROJECT" "$r/proj"
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount --make-rslave "$r/sys"
mount --rbind /dev "$r/dev"
mount --make-rslave "$r/dev"
mkdir -p "$r/run"
mount -t tmpfs tmpfs "$r/run"
if [ -n "\${PROC_MODULES:-}" ]; then
  mkdir -p "$r/run/initrd-wizard-test/bin"
  cat "$PROC_MODULES" > "$r/run/initrd-wizard-test/bin/modules"
  cat "$MKOSI_WRAPPER" > "$r/run/initrd-wizard-test/bin/mkosi"
  chmod 0755 "$r/run/initrd-wizard-test/bin/mkosi"
fi
exec chroot "$r" "$@"
`;

/**
 * This machine's kernel has no loadable modules, so it has no /proc/modules,
 * which mkosi reads for host-only module selection (every version: 24.3's
 * and 25.3's --kernel-modules-include=host, 26+'s --kernel-modules=host
 * unless mkosi-initrd --generic, which kernel-install's 50-mkosi.install
 * never passes) and dies with FileNotFoundError without. procfs takes no new
 * files and no bind mount where no file exists, overlayfs refuses procfs as a
 * lower layer, and a tmpfs /proc of symlinks into the real one breaks the
 * systemd tools inside mkosi's sandbox ("/proc/ is not mounted"). So with
 * `procModules`, the mkosi that mkosi-initrd runs (first on PATH, in the
 * namespace's own /run) is the product's libexec/target-modules/mkosi: the
 * real mkosi, whose loaded_modules() parses the snapshot's copy of
 * /proc/modules placed beside it. 25.3's 50-mkosi.install passes PATH on.
 */
const TARGET_MODULES_MKOSI = path.join(ROOT, 'libexec/target-modules/mkosi');

async function prepare(root: string): Promise<void> {
  await mkdir(path.join(root, 'proj'), { recursive: true });
  await mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
  const node = path.join(root, 'usr/local/bin/node');
  if (!(await stat(node).catch(() => null))) await copyFile(process.execPath, node);
}

/** Unmounts what an earlier version of this module mounted in the host's namespace (or a killed run left there): lazily, deepest first. */
async function unmountAll(root: string): Promise<void> {
  const targets = (await mounted(root)).sort((a, b) => b.length - a.length);
  for (const t of targets) await exec('umount', ['-l', t]).catch(() => undefined);
}

/**
 * A fresh copy of a chroot for one test run (`cp -a`, about half a minute),
 * so that the source stays as make-chroot.sh made it. Copy from a chroot
 * nobody runs commands in (its own ensureChroot directory): a chroot in use
 * has files coming and going under var/tmp. Mounts inside the source (another
 * run's /proc) are not copied. Remove the copy with removeChroot.
 */
export async function copyChroot(src: string, dst: string): Promise<string> {
  await removeChroot(dst);
  await exec('cp', ['-a', '--reflink=auto', '--one-file-system', src, dst], { timeout: 600_000 });
  return dst;
}

export async function removeChroot(dir: string): Promise<void> {
  await unmountAll(dir);
  if ((await mounted(dir)).length) throw new Error(`${dir} still has mounts: not removing it`);
  await exec('rm', ['-rf', '--one-file-system', dir], { timeout: 600_000 });
}

export interface ChrootRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` inside the chroot (cwd /proj) and returns its output; never
 * throws on a non-zero exit. The mounts live in a private mount namespace and
 * go away with the command. `procModules`: a host file that mkosi reads as
 * /proc/modules (see TARGET_MODULES_MKOSI).
 */
export async function inChroot(root: string, argv: string[], opts: { project?: string; env?: Record<string, string>; timeoutMs?: number; procModules?: string } = {}): Promise<ChrootRun> {
  await unmountAll(root);
  await prepare(root);
  const env = { PATH: `${opts.procModules ? '/run/initrd-wizard-test/bin:' : ''}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: '/root', LANG: 'C.UTF-8', TERM: 'dumb', ...opts.env };
  return exec('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', SETUP, 'setup', 'env', '-C', '/proj', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], {
    maxBuffer: 256 << 20,
    timeout: opts.timeoutMs ?? 1_800_000,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ROOT: root, PROJECT: path.resolve(opts.project ?? ROOT), PROC_MODULES: opts.procModules ? path.resolve(opts.procModules) : '', MKOSI_WRAPPER: TARGET_MODULES_MKOSI },
  }).then(
    (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
    (e: { code?: number | string; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${typeof e.code === 'number' ? '' : String(e)}` }),
  );
}

/**
 * A private, writable copy of a toolchain chroot (the bench installs initramfs-tools and dracut into it, which
 * must not happen to the shared chroots other tests use). Made once and reused: the copy is assembled in
 * DST.partial and renamed when complete. Whatever is mounted in the source (another test's /proc, /sys, /dev,
 * /run, /proj) is not copied; those directories are created empty.
 */
export async function reusableCopy(src: string, dst: string): Promise<string> {
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
