/**
 * Architecture names. The target is named as the kernel names it (uname -m:
 * x86_64, aarch64, …); rpm and dpkg each have their own spelling, and the
 * resolver needs the native one of the metadata it reads.
 */

/** Node's process.arch → uname -m. */
const NODE_MACHINE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loongarch64' };

/** uname -m → dpkg's architecture. */
const DEB_ARCH: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', i686: 'i386', i586: 'i386', i386: 'i386', armv7l: 'armhf', armv7hl: 'armhf', ppc64le: 'ppc64el', s390x: 's390x', riscv64: 'riscv64', loongarch64: 'loong64' };

/** uname -m → rpm's (the same, but 32-bit ARM). */
const RPM_ARCH: Record<string, string> = { armv7l: 'armv7hl' };

export function hostMachine(): string {
  return NODE_MACHINE[process.arch] ?? process.arch;
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
