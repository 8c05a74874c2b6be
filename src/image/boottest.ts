/**
 * Boots an initrd in QEMU against a throwaway disk shaped like the host's root
 * stack (filesystem, LUKS, LVM), with a marker init on the root that prints a
 * line and powers off. No host disk is ever attached: the only drive is the
 * image file made here.
 */
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile, open } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { CommandCancelledError, CommandFailedError, CommandNotFoundError, CommandTimeoutError, type Runner } from '../system/run.js';
import { WizardError } from '../errors.js';
import type { HostReport } from '../host/report.js';
import { hostMachine, qemuPackage, qemuTarget, type QemuTarget } from '../packages/arch.js';
import { ESP, espFiles, explainUefiFailure, makeEsp, plainLine, prepareFirmware, uefiDeadEnd, uefiQemuArgs, uefiStage } from './uefi.js';

export const BOOT_MARKER = 'INITRD-WIZARD-BOOT-OK';

/** Root filesystems the test disk can be made with (mkfs with a populated root, no mounting). */
export const DISK_FILESYSTEMS = {
  ext4: { size: 64, mkfs: (uuid: string, tree: string, image: string) => ['mkfs.ext4', '-q', '-F', '-U', uuid, '-L', 'iwroot', '-d', tree, image], pkg: 'e2fsprogs' },
  // btrfs needs more room for its metadata and system chunks than ext4.
  btrfs: { size: 160, mkfs: (uuid: string, tree: string, image: string) => ['mkfs.btrfs', '-q', '-f', '-U', uuid, '-L', 'iwroot', '--rootdir', tree, image], pkg: 'btrfs-progs' },
} as const;
export type DiskFs = keyof typeof DISK_FILESYSTEMS;

export interface DiskShape {
  fstype: DiskFs;
  luks: boolean;
  lvm: boolean;
  /** What of the host's stack the disk could not reproduce. */
  notes: string[];
}

/** The shape of the host's root stack, as far as a test disk can reproduce it. */
export function shapeFromReport(report: HostReport): DiskShape {
  const root = report.mounts.find((m) => m.role === 'root');
  const notes: string[] = [];
  const chain = new Set(root?.chain ?? []);
  const devices = report.devices.filter((d) => chain.has(d.name));
  const luks = devices.some((d) => /^LUKS/.test(d.role));
  const lvm = devices.some((d) => /^LVM/.test(d.role));
  const fstype: DiskFs = root && root.fstype in DISK_FILESYSTEMS ? (root.fstype as DiskFs) : 'ext4';
  if (root && root.fstype !== fstype) notes.push(`the root is ${root.fstype}; the test disk uses ext4 (the ${root.fstype} module is still checked in the image)`);
  if (devices.some((d) => /RAID/.test(d.role))) notes.push('md RAID is not reproduced on the test disk');
  if (luks && report.features.includes('tpm2')) notes.push('the LUKS volume unlocks with TPM2 on the host; QEMU has no TPM here, so the test disk is opened with the passphrase credential');
  return { fstype, luks, lvm, notes };
}

export interface BootDisk {
  image: string;
  cmdline: string[];
  /** The passphrase credential to pass (LUKS); left out for the negative control. */
  credential: string | null;
}

async function sparseFile(file: string, bytes: number) {
  const fh = await open(file, 'w', 0o600);
  await fh.truncate(bytes);
  await fh.close();
}

const MiB = 1024 * 1024;

/** Builds root.img in `dir`: ext4 with a marker init, optionally inside LVM and/or LUKS2. */
export async function makeBootDisk(runner: Runner, dir: string, shape: DiskShape, machine = hostMachine()): Promise<BootDisk> {
  const tree = path.join(dir, 'tree');
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'run', 'tmp']) await mkdir(path.join(tree, d), { recursive: true });
  await copyFile('/bin/busybox', path.join(tree, 'bin', 'busybox')).catch(() => {
    throw new WizardError('/bin/busybox is missing: the boot test root needs a static busybox', { hint: 'apt-get install busybox-static (or dnf install busybox)' });
  });
  await symlink('busybox', path.join(tree, 'bin', 'sh'));
  await writeFile(path.join(tree, 'etc', 'os-release'), 'ID=initrd-wizard-boot-test\nNAME="initrd-wizard boot test"\n');
  await writeFile(path.join(tree, 'sbin', 'init'), `#!/bin/busybox sh\n/bin/busybox echo "${BOOT_MARKER}"\n/bin/busybox echo "${BOOT_MARKER}" > /dev/console\n/bin/busybox sync\n/bin/busybox poweroff -f\n`);
  await chmod(path.join(tree, 'sbin', 'init'), 0o755);

  const fsUuid = randomUUID();
  const fsImage = path.join(dir, 'fs.img');
  const filesystem = DISK_FILESYSTEMS[shape.fstype];
  const fsSize = filesystem.size * MiB;
  await sparseFile(fsImage, fsSize);
  await runner.run(filesystem.mkfs(fsUuid, tree, fsImage), { timeoutMs: 60_000 }).catch((err: unknown) => {
    throw err instanceof CommandNotFoundError ? new WizardError(`${err.argv[0]} is missing: the test disk is ${shape.fstype} like the host's root`, { hint: `install ${filesystem.pkg}` }) : err;
  });
  const cmdline = [`console=${targetOf(machine).console}`, 'panic=-1', 'rw', 'systemd.show_status=1', 'rd.udev.log_level=3'];
  let disk = fsImage;

  if (shape.lvm) {
    const vg = `iwboot${randomBytes(3).toString('hex')}`;
    const pv = path.join(dir, 'pv.img');
    await sparseFile(pv, fsSize + 32 * MiB);
    const loop = (await runner.run(['losetup', '--find', '--show', pv], { timeoutMs: 30_000 })).stdout.trim();
    const cfg = ['--config', 'devices { use_devicesfile = 0 } global { activation = 0 }'];
    try {
      await runner.run(['pvcreate', ...cfg, '-q', '-y', loop], { timeoutMs: 60_000 });
      await runner.run(['vgcreate', ...cfg, '-q', vg, loop], { timeoutMs: 60_000 });
      await runner.run(['lvcreate', ...cfg, '-q', '-an', '-Zn', '-L', `${fsSize / MiB}M`, '-n', 'root', vg], { timeoutMs: 60_000 });
      const peStart = Number((await runner.run(['pvs', ...cfg, '--noheadings', '--units', 'b', '--nosuffix', '-o', 'pe_start', loop], { timeoutMs: 30_000 })).stdout.trim());
      if (!Number.isFinite(peStart) || peStart <= 0) throw new WizardError(`cannot read the physical volume's data offset (pe_start) for ${loop}`);
      await runner.run(['dd', `if=${fsImage}`, `of=${loop}`, 'bs=1M', `seek=${peStart}`, 'oflag=seek_bytes', 'conv=notrunc,fsync', 'status=none'], { timeoutMs: 120_000 });
      // Forget the VG on this host: it only ever lives in the test image.
      await runner.run(['vgchange', ...cfg, '-an', vg], { timeoutMs: 30_000, okExitCodes: [5] }).catch(() => undefined);
    } finally {
      await runner.run(['losetup', '-d', loop], { timeoutMs: 30_000 }).catch(() => undefined);
    }
    disk = pv;
    cmdline.push(`root=/dev/${vg}/root`, `rd.lvm.vg=${vg}`);
  } else {
    cmdline.push(`root=UUID=${fsUuid}`);
  }

  let credential: string | null = null;
  if (shape.luks) {
    const luksUuid = randomUUID();
    const pass = randomBytes(12).toString('hex');
    const keyFile = path.join(dir, 'key');
    await writeFile(keyFile, pass, { mode: 0o600 });
    // The header needs room: grow the image, then encrypt in place (offline, no device-mapper).
    const fh = await open(disk, 'r+');
    const size = (await fh.stat()).size;
    await fh.truncate(size + 16 * MiB);
    await fh.close();
    await runner.run(
      ['cryptsetup', 'reencrypt', '--encrypt', '--type', 'luks2', '--reduce-device-size', '16M', '--uuid', luksUuid, '--key-file', keyFile, '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '-q', disk],
      { timeoutMs: 300_000 },
    );
    cmdline.push(`rd.luks.uuid=${luksUuid}`);
    if (!shape.lvm) cmdline.splice(cmdline.findIndex((c) => c.startsWith('root=')), 1, `root=/dev/mapper/luks-${luksUuid}`);
    credential = `cryptsetup.passphrase:${pass}`;
  }
  return { image: disk, cmdline, credential };
}

export interface BootResult {
  ok: boolean;
  reachedInitrd: boolean;
  switchedRoot: boolean;
  marker: boolean;
  askedPassphrase: boolean;
  durationMs: number;
  accel: string;
  /** bios: QEMU loads the kernel and initrd itself; uefi: OVMF starts a UKI. */
  firmware: 'bios' | 'uefi';
  /** How the image was started, in words. */
  via: string;
  /** UEFI: what stopped the boot, from the console (null when it booted). */
  failure: string | null;
  /** The command line the kernel says it got ("Command line: …"): under UEFI, proof of which one the stub passed on. */
  kernelCmdline: string | null;
  log: string;
  /** Set when a first attempt was repeated because the kernel crashed before it ran the initrd (see kernelCrashedEarly). */
  retried?: string;
}

/**
 * The kernel died before it started the initrd's /init, for a reason no
 * image can cause: no "Run /init", no initramfs unpacking error, no missing
 * root. Seen with Debian's 7.2 kernel under QEMU TCG with two vCPUs: an
 * "Oops: int3" while the kernel patches its own code (sched_clock_cpu),
 * 2 seconds into the boot, about once in 40 boots.
 */
export function kernelCrashedEarly(lines: readonly string[]): string | null {
  const text = lines.join('\n');
  if (!/Kernel panic - not syncing/.test(text)) return null;
  if (/Run \S+ as init process|Initramfs unpacking failed|Unable to mount root fs|No working init found/.test(text.replace(/Kernel panic[^\n]*/g, ''))) return null;
  const oops = /(Oops: [^\n]*|BUG: [^\n]*|Kernel panic - not syncing: [^\n]*)/.exec(text)?.[1] ?? 'a kernel panic';
  return `the kernel crashed before running the initrd (${oops.trim()}): a fault of the emulated machine, not of the image`;
}

/** The kernel's own report of its command line, from the console. */
export function kernelCmdlineFromLog(lines: string[]): string | null {
  for (const l of lines) {
    const m = /\] Command line: (.*)$/.exec(plainLine(l));
    if (m) return m[1]!.trim();
  }
  return null;
}

export interface UkiTarget {
  file: string;
  /** systemd-bootx64.efi, which starts the UKI from a Type #1 entry with the test disk's command line. */
  loader: string;
  /** Distribution family, for the package a missing firmware comes from. */
  family?: string;
}

export interface BootOptions {
  runner: Runner;
  /** BIOS boot: the kernel and the initrd QEMU loads. */
  kernel?: string;
  initrd?: string;
  /** UEFI boot of a unified kernel image under OVMF, instead of kernel + initrd. */
  uki?: UkiTarget;
  disk: BootDisk;
  /** Leave the LUKS credential out (negative control). */
  withoutCredential?: boolean;
  accel: 'kvm' | 'tcg';
  timeoutMs?: number;
  logFile?: string;
  /** Ctrl-C: stops QEMU. */
  signal?: AbortSignal;
  /** Stop as soon as the initrd asks for a passphrase (the negative control's expected end: no need to wait out the timeout). */
  stopAtPassphrase?: boolean;
  /** The image's machine (uname -m): which QEMU emulates it. Default: this machine. */
  machine?: string;
  /** Distribution family, for the package a missing QEMU comes from. */
  family?: string;
}

/** The command line that boots the disk: its own, plus the passphrase credential unless left out. */
export function diskCmdline(disk: BootDisk, withoutCredential = false): string[] {
  const append = [...disk.cmdline];
  if (disk.credential && !withoutCredential) append.push(`systemd.set_credential=${disk.credential}`);
  return append;
}

/** QEMU's emulator for a machine; a machine it has none for here is refused by name. */
export function targetOf(machine: string): QemuTarget {
  const t = qemuTarget(machine);
  if (!t) throw new WizardError(`booting ${machine} in QEMU is not set up`, { hint: 'boot the image on the machine itself' });
  return t;
}

/** The emulator's argv up to the machine's devices: binary, accelerator, machine type and CPU. */
export function qemuBase(machine: string, accel: 'kvm' | 'tcg', memoryMiB: number): string[] {
  const t = targetOf(machine);
  const cpu = accel === 'kvm' ? (t.tcgCpu ? 'host' : null) : t.tcgCpu;
  return [t.binary, '-accel', accel, ...(t.machine ? ['-machine', t.machine] : []), ...(cpu ? ['-cpu', cpu] : []), '-m', String(memoryMiB)];
}

/** A missing emulator, named with the package that carries it. */
function missingQemu(err: unknown, machine: string, family?: string): unknown {
  if (!(err instanceof CommandNotFoundError)) return err;
  const t = targetOf(machine);
  return new WizardError(`${t.binary} is not installed: booting a ${machine} image needs it`, { hint: `install ${qemuPackage(t, family)}` });
}

/** Once a UEFI failure line shows, how long to keep reading (the lines after it say more) before stopping QEMU. */
const UEFI_FAILURE_GRACE_MS = 5_000;

/** Boots once more when the first attempt died in the kernel before the initrd ran: that says nothing about the image. */
export async function bootTest(opts: BootOptions): Promise<BootResult> {
  const first = await bootOnce(opts);
  if (!first.early || opts.signal?.aborted) return first.result;
  const again = await bootOnce(opts);
  return { ...again.result, retried: first.early };
}

async function bootOnce(opts: BootOptions): Promise<{ result: BootResult; early: string | null }> {
  const started = performance.now();
  const lines: string[] = [];
  const append = diskCmdline(opts.disk, opts.withoutCredential);
  const machine = opts.machine ?? hostMachine();
  // UEFI firmware here is OVMF, which is x86_64's: another machine boots its kernel and initrd directly.
  if (opts.uki && machine !== 'x86_64') throw new WizardError(`booting a unified kernel image is set up for x86_64 (OVMF) only, not ${machine}`, { hint: 'boot-test a cpio initrd (--format cpio) on this machine' });
  const base = [...qemuBase(machine, opts.accel, 2048), '-smp', '2', '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio'];
  const rootDrive = ['-drive', `file=${opts.disk.image},if=virtio,format=raw,cache=unsafe`];
  let argv: string[];
  let via: string;
  if (opts.uki) {
    // The ESP and the firmware's variable store live beside the disk image, in the boot's throwaway directory.
    const dir = path.dirname(opts.disk.image);
    const fw = await prepareFirmware(dir, opts.uki.family);
    const esp = await makeEsp(opts.runner, dir, espFiles(opts.uki.file, opts.uki.loader, append));
    argv = [...base, ...uefiQemuArgs(fw, esp), ...rootDrive];
    via = `OVMF → systemd-boot → Type #1 entry "efi /${ESP.uki}" with the test disk's options`;
  } else {
    if (!opts.kernel || !opts.initrd) throw new WizardError('internal: a BIOS boot needs the kernel and the initrd');
    argv = [...base, '-kernel', opts.kernel, '-initrd', opts.initrd, ...rootDrive, '-append', append.join(' ')];
    via = 'QEMU -kernel/-initrd';
  }
  let askedPassphrase = false;
  let timedOut = false;
  const stop = new AbortController();
  let agentTimer: NodeJS.Timeout | undefined;
  let failureTimer: NodeJS.Timeout | undefined;
  let asking = false;
  try {
    await opts.runner.run(argv, {
      timeoutMs: opts.timeoutMs ?? (opts.uki ? 420_000 : 300_000),
      signal: opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal,
      onLine: (line) => {
        lines.push(line);
        if (opts.uki && !failureTimer && uefiDeadEnd(line)) failureTimer = setTimeout(() => stop.abort(), UEFI_FAILURE_GRACE_MS);
        if (/Please enter passphrase|Enter passphrase for/.test(line)) {
          askedPassphrase = true;
          if (opts.stopAtPassphrase) stop.abort();
        }
        // The prompt itself ends in no newline, so it only arrives as a line when QEMU stops. Once the unit that asks
        // has started, stop a few seconds after the agent that shows the prompt starts (not its early directory
        // watch), or 40 s after the unit at the latest: the prompt then comes through as the last line.
        if (opts.stopAtPassphrase) {
          if (!asking && /Starting .*(systemd-cryptsetu|Cryptography Setup)/.test(line)) {
            asking = true;
            agentTimer = setTimeout(() => stop.abort(), 40_000);
          } else if (asking && /Started .*Password Requests to (Console|Wall)/.test(line) && !/Directory Watch/.test(line)) {
            clearTimeout(agentTimer);
            agentTimer = setTimeout(() => stop.abort(), 5_000);
          }
        }
      },
    });
  } catch (err) {
    if (err instanceof CommandCancelledError && stop.signal.aborted && !opts.signal?.aborted) {
      // Stopped at the passphrase prompt or after a UEFI failure, as asked.
    } else if (err instanceof CommandTimeoutError) timedOut = true;
    else if (err instanceof CommandNotFoundError) throw missingQemu(err, machine, opts.family ?? opts.uki?.family);
    else if (err instanceof CommandFailedError) {
      if (!lines.length) {
        const qemu = qemuPackage(targetOf(machine), opts.family ?? opts.uki?.family);
        throw new WizardError(`qemu failed to start: ${err.stderr.trim().split('\n').slice(-3).join(' ')}`, { hint: opts.uki ? `install ${qemu} and ovmf` : `install ${qemu} and check the kernel path` });
      }
    } else throw err;
  } finally {
    clearTimeout(agentTimer);
    clearTimeout(failureTimer);
  }
  const text = lines.join('\n');
  if (opts.logFile) await writeFile(opts.logFile, `# ${argv.join(' ')}\n${text}\n`);
  const marker = lines.some((l) => l.includes(BOOT_MARKER) && !l.includes('echo'));
  const askedFor = askedPassphrase || (timedOut && /passphrase/i.test(text));
  let failure: string | null = null;
  if (opts.uki && !marker) failure = askedFor ? 'the initrd waited for a passphrase' : explainUefiFailure(lines, uefiStage(lines, BOOT_MARKER), timedOut);
  const result: BootResult = {
    ok: marker,
    reachedInitrd: /Reached target .*[Ii]nitrd|initrd\.target/.test(text),
    switchedRoot: /Switching root|Switch Root/.test(text),
    marker,
    askedPassphrase: askedFor,
    durationMs: performance.now() - started,
    accel: opts.accel,
    firmware: opts.uki ? 'uefi' : 'bios',
    via,
    failure,
    kernelCmdline: kernelCmdlineFromLog(lines),
    log: lines.slice(-40).map((l) => (opts.uki ? plainLine(l) : l)).join('\n'),
  };
  return { result, early: marker ? null : kernelCrashedEarly(lines) };
}

/**
 * KVM when it really works, TCG otherwise. /dev/kvm can exist and open yet
 * hang the guest (nested virtualisation on some VMs), so a short probe boots
 * the kernel without a root under KVM and looks for its first line.
 * INITRD_WIZARD_ACCEL=kvm|tcg skips the probe.
 */
export async function pickAccel(runner: Runner, kernel: string, machine = hostMachine(), family?: string): Promise<'kvm' | 'tcg'> {
  const forced = process.env.INITRD_WIZARD_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  // KVM runs guests of this machine's own architecture only.
  if (machine !== hostMachine()) return 'tcg';
  try {
    const fh = await open('/dev/kvm', 'r+');
    await fh.close();
  } catch {
    return 'tcg';
  }
  let booted = false;
  await runner
    .run([...qemuBase(machine, 'kvm', 512), '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio', '-kernel', kernel, '-append', `console=${targetOf(machine).console} panic=-1 root=/dev/null`], {
      timeoutMs: 20_000,
      onLine: (l) => {
        if (/Linux version/.test(l)) booted = true;
      },
    })
    .catch((err: unknown) => {
      // No emulator at all is said now, by name; any other failure means no working KVM.
      if (err instanceof CommandNotFoundError) throw missingQemu(err, machine, family);
    });
  return booted ? 'kvm' : 'tcg';
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(process.env.TMPDIR || os.tmpdir(), 'initrd-wizard-boot-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
