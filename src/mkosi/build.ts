/**
 * Builds the variant with the real mkosi-initrd, before anything under /etc
 * changes. The preview runs mkosi-initrd itself in a private mount namespace
 * whose /etc is an overlay holding exactly the drop-in `install` would write:
 * the same binary, the same include paths, the same arguments that
 * kernel-install's plugin will use, so what is previewed is what gets built.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, writeFile, copyFile, statfs } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { WizardError } from '../errors.js';
import { CommandCancelledError, CommandFailedError, type Runner } from '../system/run.js';
import { isFile, type HostFs } from '../system/files.js';
import { invocation, packageRoot } from '../paths.js';
import type { RenderedConfig } from './render.js';
import { DROP_IN_PATH } from './render.js';

export interface Preflight {
  id: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface PreflightInput {
  fs: HostFs;
  kernelVersion: string;
  uid: number;
  mkosiVersion: string | null;
  mkosiMajor: number;
  hasInitrd: boolean;
  family: string;
  now?: number;
  /** The build keeps this machine's loaded modules (a live build, not --snapshot or --generic). */
  liveModules?: boolean;
}

const GiB = 1024 ** 3;

async function age(fs: HostFs, paths: string[]): Promise<number | null> {
  let newest = 0;
  for (const p of paths) {
    const s = await fs.stat(p).catch(() => null);
    if (s) newest = Math.max(newest, s.mtimeMs);
  }
  return newest ? newest : null;
}

/** Kernels whose modules and image are both installed, newest name last (at most a screenful). */
async function installedKernels(fs: HostFs): Promise<string[]> {
  const names = ((await fs.list('/usr/lib/modules').catch(() => null)) ?? []).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).slice(-50);
  const out: string[] = [];
  for (const n of names) {
    const dir = `/usr/lib/modules/${n}`;
    if (!(await isFile(fs, `${dir}/modules.dep`))) continue;
    if ((await isFile(fs, `${dir}/vmlinuz`)) || (await isFile(fs, `/boot/vmlinuz-${n}`))) out.push(n);
  }
  return out.slice(-8);
}

/** ", or build for one that is installed: …" naming a real kernel, or nothing when there is none. */
function otherKernels(installed: string[], k: string): string {
  const others = installed.filter((n) => n !== k);
  if (!others.length) return '';
  return `, or build for an installed kernel: ${invocation()} build --kernel-version ${others[others.length - 1]}${others.length > 1 ? ` (installed: ${others.join(', ')})` : ''}`;
}

/** Everything a build needs, each with the fix when it is missing. */
export async function buildPreflight(input: PreflightInput): Promise<Preflight[]> {
  const { fs, kernelVersion: k } = input;
  const out: Preflight[] = [];
  out.push(
    input.uid === 0
      ? { id: 'root', ok: true, detail: 'running as root' }
      : { id: 'root', ok: false, detail: 'mkosi-initrd installs packages into a build root and needs root', fix: 'run with sudo' },
  );
  out.push(
    input.mkosiVersion && input.mkosiMajor >= 24 && input.hasInitrd
      ? { id: 'mkosi', ok: true, detail: `mkosi ${input.mkosiVersion} with mkosi-initrd` }
      : { id: 'mkosi', ok: false, detail: input.mkosiVersion ? `mkosi ${input.mkosiVersion} has no mkosi-initrd (needs >= 24)` : 'mkosi is not installed', fix: input.family === 'debian' ? 'apt-get install -t bookworm-backports mkosi (Debian 12) or apt-get install mkosi' : 'install mkosi >= 24 from your distribution' },
  );
  const modDir = `/usr/lib/modules/${k}`;
  const installed = await installedKernels(fs);
  const hasDep = (await fs.read(`${modDir}/modules.dep`).catch(() => null)) !== null;
  out.push(
    hasDep
      ? { id: 'kernel-modules', ok: true, detail: `${modDir} with modules.dep` }
      : { id: 'kernel-modules', ok: false, detail: `${modDir}/modules.dep is missing: mkosi-initrd needs the kernel's modules`, fix: `install the modules package of kernel ${k}${otherKernels(installed, k)}` },
  );
  const vmlinuz = (await fs.stat(`${modDir}/vmlinuz`).catch(() => null)) !== null;
  const bootImage = (await fs.stat(`/boot/vmlinuz-${k}`).catch(() => null)) !== null;
  if (input.mkosiMajor >= 25) {
    // 25 and later are given the kernel image (--kernel-image), as kernel-install's plugin does.
    out.push(
      vmlinuz || bootImage
        ? { id: 'vmlinuz', ok: true, detail: `${vmlinuz ? `${modDir}/vmlinuz` : `/boot/vmlinuz-${k}`} is passed as --kernel-image: modules are filtered to what the host needs` }
        : { id: 'vmlinuz', ok: false, detail: `no kernel image for ${k} (${modDir}/vmlinuz or /boot/vmlinuz-${k}): mkosi filters modules only with it`, fix: `install the kernel package of ${k}${otherKernels(installed, k)}` },
    );
  } else
    out.push(
      vmlinuz
        ? { id: 'vmlinuz', ok: true, detail: `${modDir}/vmlinuz present: modules are filtered to what the host needs` }
        : {
            id: 'vmlinuz',
            ok: false,
            detail: `${modDir}/vmlinuz is missing: mkosi ${input.mkosiVersion ?? ''} filters modules and runs depmod only when it is there, so every module (~4,000, over 100 MB) would go into the image`,
            // Only a file that is there can be copied: otherwise the kernel package is what is missing.
            fix: bootImage ? `cp /boot/vmlinuz-${k} ${modDir}/vmlinuz` : `install the kernel package of ${k}${otherKernels(installed, k)}`,
          },
    );
  const firmware = (await fs.stat('/usr/lib/firmware').catch(() => null))?.isDirectory() ?? false;
  out.push(
    firmware
      ? { id: 'firmware-dir', ok: true, detail: '/usr/lib/firmware exists (mkosi-initrd copies it in as an extra tree)' }
      : { id: 'firmware-dir', ok: false, detail: 'mkosi-initrd copies /usr/lib/firmware into every image and stops with "Extra tree /usr/lib/firmware not found" when it is missing', fix: 'mkdir -p /usr/lib/firmware (or install the firmware packages this machine needs)' },
  );
  const procModules = (await fs.read('/proc/modules').catch(() => null)) !== null;
  if (input.liveModules !== false) out.push(
    procModules
      ? { id: 'proc-modules', ok: true, detail: '/proc/modules lists the loaded modules' }
      : {
          id: 'proc-modules',
          ok: false,
          detail: 'the running kernel has no loadable modules (/proc/modules is missing); mkosi-initrd keeps the host\'s loaded modules and stops with FileNotFoundError without it',
          fix: 'build on the machine that boots the initrd, running a modular kernel; or build for it from its snapshot (--snapshot) or with --generic',
        },
  );
  const now = input.now ?? Date.now();
  if (input.family === 'debian') {
    const lists = (await fs.list('/var/lib/apt/lists').catch(() => null)) ?? [];
    const newest = await age(fs, lists.filter((l) => /_Packages/.test(l)).map((l) => `/var/lib/apt/lists/${l}`));
    out.push(
      newest && now - newest < 7 * 86400_000
        ? { id: 'metadata', ok: true, detail: `apt metadata refreshed ${Math.round((now - newest) / 3600_000)} h ago` }
        : { id: 'metadata', ok: false, detail: newest ? `apt metadata is ${Math.round((now - newest) / 86400_000)} days old: builds use it as is ("cache only") and fail on removed versions` : 'no apt metadata: the build cannot find any package', fix: 'apt-get update' },
    );
  } else if (input.family === 'fedora') {
    const caches = [...((await fs.list('/var/cache/dnf').catch(() => null)) ?? []).map((d) => `/var/cache/dnf/${d}/repodata/repomd.xml`), ...((await fs.list('/var/cache/libdnf5').catch(() => null)) ?? []).map((d) => `/var/cache/libdnf5/${d}/repodata/repomd.xml`)];
    const newest = await age(fs, caches);
    out.push(
      newest && now - newest < 7 * 86400_000
        ? { id: 'metadata', ok: true, detail: `dnf metadata refreshed ${Math.round((now - newest) / 3600_000)} h ago` }
        : { id: 'metadata', ok: false, detail: newest ? `dnf metadata is ${Math.round((now - newest) / 86400_000)} days old: builds run "cache only" and fail with "No match for argument"` : 'no dnf metadata cache: the build cannot find any package', fix: 'dnf makecache' },
    );
  }
  const free = await statfs(fs.resolve('/var/tmp')).then((s) => s.bavail * s.bsize).catch(() => null);
  out.push(
    free === null || free >= 2 * GiB
      ? { id: 'disk-space', ok: true, detail: free === null ? '/var/tmp free space unknown' : `${(free / GiB).toFixed(1)} GiB free in /var/tmp` }
      : { id: 'disk-space', ok: false, detail: `only ${(free / GiB).toFixed(1)} GiB free in /var/tmp, where mkosi builds (needs ~2 GiB)`, fix: 'free space in /var/tmp' },
  );
  return out;
}

/** Turns the known ways a build fails into a sentence and a fix. */
export function explainBuildFailure(log: string): { message: string; hint: string } | null {
  if (/FileNotFoundError: .*'\/proc\/modules'/.test(log)) {
    return { message: 'mkosi-initrd could not read /proc/modules: the running kernel has no loadable modules', hint: 'build on a machine running a modular kernel (the one that will boot this initrd)' };
  }
  const pkg =
    /Unable to locate package (\S+)/.exec(log) ??
    /Package '?([^' ]+)'? has no installation candidate/.exec(log) ??
    /No match for argument: (\S+)/.exec(log) ??
    /target not found: (\S+)/.exec(log) ??
    /'(\S+)' not found in package names/.exec(log);
  if (pkg) {
    return {
      message: `the package "${pkg[1]}" is not in the configured repositories (or the metadata is stale)`,
      hint: `refresh the metadata (apt-get update / dnf makecache), then check the name; remove it with the package list if it does not exist for this release`,
    };
  }
  const stub = /sd-stub not found at (\S+) in the image/.exec(log);
  if (stub) {
    return {
      message: `mkosi-initrd --format uki (uki_generator=mkosi) takes the EFI stub from the image it builds, and ${stub[1]} is not in it`,
      hint: 'add the stub package to the initrd (Packages=systemd-boot-efi on Debian, systemd-boot-unsigned on Fedora, in /etc/mkosi-initrd/mkosi.conf.d/), or use uki_generator=ukify in /etc/kernel/install.conf',
    };
  }
  if (/No space left on device/.test(log)) return { message: 'the build ran out of disk space', hint: 'free space in /var/tmp and the output directory (a build needs ~2 GiB)' };
  if (/(404\s+Not Found|Failed to fetch|Cannot download|Curl error|Status code: 404)/.test(log)) {
    return { message: 'downloading packages failed: the package metadata is stale or the mirror is unreachable', hint: 'refresh the metadata (apt-get update / dnf makecache) and check the network' };
  }
  if (/mount: .*overlay|wrong fs type, bad option, bad superblock on initrd-wizard-preview/.test(log)) {
    return { message: 'the preview could not overlay /etc in a private mount namespace', hint: 'the kernel needs overlayfs (modprobe overlay); or install first and build with kernel-install' };
  }
  return null;
}

export interface BuildOptions {
  runner: Runner;
  kernelVersion: string;
  config: RenderedConfig;
  output: string;
  logFile: string;
  signal?: AbortSignal;
  onStage?: (stage: string) => void;
  onLine?: (line: string) => void;
  /** Environment for mkosi-initrd (tests put a shim first on PATH). */
  env?: Record<string, string>;
  timeoutMs?: number;
  mkosiMajor: number;
  /**
   * Whose modules the image keeps: 'live' (this machine's /proc/modules, as
   * kernel-install on it would), a target's /proc/modules text (a snapshot of
   * another machine), or 'generic' (none: mkosi's default list and the
   * variant's storage modules only).
   */
  modules: 'live' | 'generic' | { procModules: string };
  /** The kernel image, which mkosi >= 25's plugin passes as --kernel-image. */
  kernelImage?: string | null;
}

export interface BuildResult {
  output: string;
  log: string;
  durationMs: number;
}

const WORK_BASE = '/var/tmp';
/** The output directory, as mkosi sees it under the namespace's private /var/tmp. */
const OUT_NAME = 'initrd-wizard-out';
const MODULES_DIR = 'initrd-wizard-target-modules';

export async function buildInitrd(opts: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const tmp = await mkdtemp(path.join(WORK_BASE, 'initrd-wizard-build-'));
  const log = createWriteStream(opts.logFile, { flags: 'w', mode: 0o644 });
  try {
    const upper = path.join(tmp, 'upper');
    const work = path.join(tmp, 'work');
    // mkosi-initrd hard-codes --workspace-dir=/var/tmp for root: the namespace gets a private /var/tmp
    // (this directory), so a cancelled or killed build leaves no mkosi workspace behind.
    const varTmp = path.join(tmp, 'var-tmp');
    const out = path.join(varTmp, OUT_NAME);
    await mkdir(work, { recursive: true });
    await mkdir(out, { recursive: true });
    // The overlay's upper layer is /etc as install would leave it.
    const place = async (hostPath: string, content: string) => {
      const rel = path.relative('/etc', hostPath);
      if (rel.startsWith('..')) throw new WizardError(`internal: ${hostPath} is not under /etc`);
      const dest = path.join(upper, rel);
      await mkdir(path.dirname(dest), { recursive: true, mode: 0o755 });
      await writeFile(dest, content, { mode: 0o644 });
    };
    await place(DROP_IN_PATH, opts.config.text);
    for (const [p, content] of opts.config.files) await place(p, content);
    const helper = path.join(packageRoot(), 'libexec', 'preview-namespace.sh');
    // The arguments kernel-install's plugin passes for this mkosi version.
    const args = ['--kernel-version', opts.kernelVersion, '-o', 'initrd', '-O', `/var/tmp/${OUT_NAME}`];
    if (opts.mkosiMajor >= 25 && opts.kernelImage) args.push('--kernel-image', opts.kernelImage);
    const env: Record<string, string> = { ...opts.env };
    if (opts.modules === 'generic' && opts.mkosiMajor >= 26) args.push('--generic');
    else if (opts.modules !== 'live') {
      // The target's module list stands in for this machine's (see libexec/target-modules/mkosi).
      const dir = path.join(varTmp, MODULES_DIR);
      await mkdir(dir, { recursive: true });
      await copyFile(path.join(packageRoot(), 'libexec', 'target-modules', 'mkosi'), path.join(dir, 'mkosi'));
      await chmod(path.join(dir, 'mkosi'), 0o755);
      await writeFile(path.join(dir, 'modules'), opts.modules === 'generic' ? '' : opts.modules.procModules, { mode: 0o644 });
      env.PATH = `/var/tmp/${MODULES_DIR}:${opts.env?.PATH ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
    }
    const argv = ['unshare', '--mount', '--propagation', 'private', '--', helper, upper, work, varTmp, 'mkosi-initrd', ...args];
    log.write(`# ${argv.join(' ')}\n`);
    try {
      await opts.runner.run(argv, {
        timeoutMs: opts.timeoutMs ?? 3_600_000,
        signal: opts.signal,
        env,
        onLine: (line) => {
          log.write(line + '\n');
          opts.onLine?.(line);
          const stage = /^‣\s+(.*)$/.exec(line.trim());
          if (stage) opts.onStage?.(stage[1]!.trim());
        },
      });
    } catch (err) {
      if (err instanceof CommandCancelledError) throw new WizardError('the build was cancelled; temporary files were removed');
      if (err instanceof CommandFailedError) {
        const text = `${err.stdout}\n${err.stderr}`;
        const known = explainBuildFailure(text);
        const tail = err.stderr.trim().split('\n').slice(-5).join('\n');
        throw new WizardError(known ? `build failed: ${known.message}` : `mkosi-initrd failed (exit ${err.exitCode_}):\n${tail}`, { hint: `${known ? known.hint + '; ' : ''}full log: ${opts.logFile}` });
      }
      throw err;
    }
    // 24.x writes initrd.cpio.zst (and an "initrd" symlink to it); 25 and later copy the result out as a plain "initrd" file.
    const names = (await readdir(out)).filter((f) => /^initrd(\.cpio(\.\w+)?)?$/.test(f)).sort().reverse();
    let built: string | undefined;
    for (const f of names) if ((await lstat(path.join(out, f))).isFile()) built = built ?? f;
    if (!built) throw new WizardError(`mkosi-initrd finished but wrote no initrd into ${out}`, { hint: `full log: ${opts.logFile}` });
    await mkdir(path.dirname(path.resolve(opts.output)), { recursive: true });
    await rename(path.join(out, built), opts.output).catch(async () => copyFile(path.join(out, built), opts.output));
    return { output: opts.output, log: opts.logFile, durationMs: performance.now() - started };
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
    await rm(tmp, { recursive: true, force: true });
  }
}
