/**
 * Architecture names. The target is named as the kernel names it (uname -m:
 * x86_64, aarch64, …); rpm and dpkg each have their own spelling, and the
 * resolver needs the native one of the metadata it reads.
 */

import os from 'node:os';
import { InputError } from '../errors.js';

/** Node's process.arch → uname -m (for a Node without os.machine()). */
const NODE_MACHINE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loongarch64' };

/** uname -m → dpkg's architecture. */
const DEB_ARCH: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', i686: 'i386', i586: 'i386', i386: 'i386', armv7l: 'armhf', armv7hl: 'armhf', ppc64le: 'ppc64el', s390x: 's390x', riscv64: 'riscv64', loongarch64: 'loong64' };

/** uname -m → rpm's (the same, but 32-bit ARM). */
const RPM_ARCH: Record<string, string> = { armv7l: 'armv7hl' };

/** uname -m → mkosi's Architecture= names, which its configuration matches on ([Match] Architecture=). */
const MKOSI_ARCH: Record<string, string> = { x86_64: 'x86-64', i686: 'x86', aarch64: 'arm64', armv7l: 'arm', ppc64le: 'ppc64-le', s390x: 's390x', riscv64: 'riscv64', loongarch64: 'loongarch64' };

/**
 * This machine as the kernel names it (the live host's "arch"; a snapshot
 * records the same value): os.machine() is uname -m, where process.arch is
 * only what Node was built for (an x64 Node under emulation on arm64).
 */
export function hostMachine(): string {
  const m = typeof os.machine === 'function' ? os.machine() : '';
  return m ? machineOf(m) : (NODE_MACHINE[process.arch] ?? process.arch);
}

/** A machine name from any of the three spellings (amd64 → x86_64, arm64 → aarch64, …). */
export function machineOf(name: string): string {
  for (const [machine, deb] of Object.entries(DEB_ARCH)) if (deb === name) return machine === 'i586' || machine === 'i386' ? 'i686' : machine === 'armv7hl' ? 'armv7l' : machine;
  if (name === 'armv7hl') return 'armv7l';
  return name;
}

export function debArch(machine: string): string {
  return DEB_ARCH[machine] ?? machine;
}

export function rpmArch(machine: string): string {
  return RPM_ARCH[machine] ?? machine;
}

export function mkosiArch(machine: string): string {
  return MKOSI_ARCH[machine] ?? machine;
}

/**
 * The machines the wizard can be asked to target (--arch), as uname -m names
 * them; every other spelling is mapped onto these by machineOf.
 */
export const KNOWN_MACHINES = ['x86_64', 'aarch64', 'i686', 'armv7l', 'ppc64le', 's390x', 'riscv64', 'loongarch64'] as const;

/**
 * rpm: the architectures a native architecture can install, best first
 * (libsolv's architecture policies, as dnf sets them with pool_setarch).
 * Each is its own "colour" there, so among the providers of one dependency
 * only the best-scoring architecture survives; noarch is compatible with all
 * and never pruned. An architecture not in the list cannot be installed at
 * all: it is not even a candidate.
 */
const RPM_COMPATIBLE: Record<string, readonly string[]> = {
  x86_64: ['x86_64', 'athlon', 'i686', 'i586', 'i486', 'i386'],
  i686: ['i686', 'i586', 'i486', 'i386'],
  aarch64: ['aarch64'],
  armv7hl: ['armv7hl', 'armv6hl'],
  ppc64le: ['ppc64le'],
  s390x: ['s390x', 's390'],
  riscv64: ['riscv64'],
  loongarch64: ['loongarch64'],
};

/** The architecture-independent names: rpm's noarch, dpkg's all. */
export const NEUTRAL_ARCHES: ReadonlySet<string> = new Set(['noarch', 'all']);

/**
 * An architecture's rank for the native one (rpm spelling): 0 for noarch,
 * 1 for native, 2… for the older compatible ones (multilib: i686 on x86_64),
 * null when a package of that architecture cannot be installed.
 */
export function rpmArchScore(native: string, arch: string): number | null {
  if (NEUTRAL_ARCHES.has(arch)) return 0;
  const list = RPM_COMPATIBLE[native] ?? [native];
  const i = list.indexOf(arch);
  return i < 0 ? null : i + 1;
}

/** Can a package of `arch` be installed on `native` (rpm spellings)? */
export function rpmInstallable(native: string, arch: string): boolean {
  return rpmArchScore(native, arch) !== null;
}

/** A --arch value in any spelling → a known machine, or null. */
export function knownMachine(name: string): string | null {
  const m = machineOf(name.trim());
  return (KNOWN_MACHINES as readonly string[]).includes(m) ? m : null;
}

/**
 * The package that carries QEMU's system emulator for a machine, per
 * distribution family, with the machine type and console it boots with.
 */
export interface QemuTarget {
  binary: string;
  /** -machine for this target; null when QEMU's default is the right one. */
  machine: string | null;
  /** -cpu under TCG when QEMU's default CPU cannot run the target's kernel (virt's is a 32-bit Cortex-A15); KVM takes the host's. */
  tcgCpu: string | null;
  /** The kernel's serial console on that machine. */
  console: string;
  /** The package that installs `binary`. */
  packages: { debian: string; fedora: string };
}

const QEMU: Record<string, QemuTarget> = {
  x86_64: { binary: 'qemu-system-x86_64', machine: null, tcgCpu: null, console: 'ttyS0', packages: { debian: 'qemu-system-x86', fedora: 'qemu-system-x86' } },
  i686: { binary: 'qemu-system-i386', machine: null, tcgCpu: null, console: 'ttyS0', packages: { debian: 'qemu-system-x86', fedora: 'qemu-system-x86' } },
  aarch64: { binary: 'qemu-system-aarch64', machine: 'virt', tcgCpu: 'max', console: 'ttyAMA0', packages: { debian: 'qemu-system-arm', fedora: 'qemu-system-aarch64' } },
  armv7l: { binary: 'qemu-system-arm', machine: 'virt', tcgCpu: 'max', console: 'ttyAMA0', packages: { debian: 'qemu-system-arm', fedora: 'qemu-system-arm' } },
  ppc64le: { binary: 'qemu-system-ppc64', machine: 'pseries', tcgCpu: null, console: 'hvc0', packages: { debian: 'qemu-system-ppc', fedora: 'qemu-system-ppc' } },
  s390x: { binary: 'qemu-system-s390x', machine: 's390-ccw-virtio', tcgCpu: null, console: 'ttysclp0', packages: { debian: 'qemu-system-s390x', fedora: 'qemu-system-s390x' } },
  riscv64: { binary: 'qemu-system-riscv64', machine: 'virt', tcgCpu: null, console: 'ttyS0', packages: { debian: 'qemu-system-misc', fedora: 'qemu-system-riscv' } },
  loongarch64: { binary: 'qemu-system-loongarch64', machine: 'virt', tcgCpu: 'max', console: 'ttyS0', packages: { debian: 'qemu-system-misc', fedora: 'qemu-system-loongarch64' } },
};

export function qemuTarget(machine: string): QemuTarget | null {
  return QEMU[machine] ?? null;
}

/** The package to install for a target's QEMU, for a distribution family (both names when the family is neither). */
export function qemuPackage(target: QemuTarget, family?: string): string {
  if (family === 'debian' || family === 'fedora') return target.packages[family];
  return target.packages.debian === target.packages.fedora ? target.packages.debian : `${target.packages.debian} (Debian, Ubuntu) or ${target.packages.fedora} (Fedora)`;
}

/**
 * The target machine (uname -m spelling): --arch in any of uname's, rpm's or
 * dpkg's spellings, else the one the snapshot recorded (the live host's
 * os.machine()), else this machine's.
 */
export function resolveArch(report: { host: { arch: string } } | null, flag?: string): string {
  if (flag !== undefined) {
    const m = knownMachine(flag);
    if (!m) throw new InputError(`unknown architecture "${flag}"`, `use one of: ${KNOWN_MACHINES.join(', ')} (rpm's and dpkg's names work too, e.g. arm64 or amd64)`);
    return m;
  }
  const recorded = report?.host.arch.trim();
  return recorded ? machineOf(recorded) : hostMachine();
}
