/**
 * Which program turns kernel + initrd + command line into a UKI when
 * kernel-install runs with layout=uki, decided from the versions on the host.
 *
 * - systemd's 60-ukify.install: systemd >= 254 (it needs uki_generator=ukify
 *   there; from 257 an unset generator means ukify). Needs ukify and the stub.
 * - mkosi's 50-mkosi.install with uki_generator=mkosi: mkosi >= 25 (24.3's
 *   plugin writes its UKI under a name 90-uki-copy.install does not pick up).
 *   mkosi runs ukify itself, so ukify and the stub are needed all the same.
 * - systemd < 254: kernel-install passes no image type, and neither plugin
 *   can build a UKI there.
 */
export type UkiGenerator = 'ukify' | 'mkosi';

export interface UkiToolchain {
  /** systemd's major version (kernel-install's), null when unknown. */
  systemd: number | null;
  /** ukify's path, null when not installed. */
  ukify: string | null;
  /** The EFI stub's path, null when not installed. */
  stub: string | null;
  mkosiMajor: number | null;
  family: string;
  /** Architecture as `uname -m` spells it. */
  arch?: string;
  /** The release's codename (Debian): where ukify comes from differs per release. */
  codename?: string;
}


export type GeneratorChoice =
  // Only ukify is ever chosen: uki_generator=mkosi is refused (see above), but it is still read from install.conf.
  | { ok: true; generator: 'ukify'; why: string }
  | { ok: false; problems: { detail: string; fix?: string }[] };

const EFI_ARCH: Record<string, string> = { x86_64: 'x64', aarch64: 'aa64', i686: 'ia32', i386: 'ia32', riscv64: 'riscv64', loongarch64: 'loongarch64', armv7l: 'arm' };

/** Where the stub lives: systemd-boot-efi (Debian) / systemd-boot-unsigned (Fedora) both install it here. */
export function stubPath(arch = 'x86_64'): string {
  return `/usr/lib/systemd/boot/efi/linux${EFI_ARCH[arch] ?? 'x64'}.efi.stub`;
}

export const UKIFY_PATHS = ['/usr/bin/ukify', '/usr/lib/systemd/ukify'] as const;

/** The package with the stub is also the one with systemd-boot's loader (boot-test needs both). Keys are variant/distro.ts's families. */
const STUB_PACKAGE: Record<string, string> = { debian: 'systemd-boot-efi', fedora: 'systemd-boot-unsigned', opensuse: 'systemd-boot', arch: 'systemd' };
const UKIFY_PACKAGE: Record<string, string> = { debian: 'systemd-ukify', fedora: 'systemd-ukify', opensuse: 'systemd-experimental', arch: 'systemd-ukify' };
const INSTALL: Record<string, string> = { debian: 'apt-get install', fedora: 'dnf install', opensuse: 'zypper install', arch: 'pacman -S' };

export function stubPackage(family: string, codename?: string): string {
  // The stub of the same systemd as ukify: on Debian 12 that is backports' 254.
  if (family === 'debian' && codename === 'bookworm') return '-t bookworm-backports systemd-boot-efi';
  return STUB_PACKAGE[family] ?? 'the systemd-boot EFI stub package';
}
export function ukifyPackage(family: string, codename?: string): string {
  // Debian 12 has ukify only inside bookworm-backports' systemd 254 package (it needs python3-pefile).
  if (family === 'debian' && codename === 'bookworm') return '-t bookworm-backports systemd python3-pefile';
  return UKIFY_PACKAGE[family] ?? 'ukify (systemd >= 254)';
}
export function installCmd(family: string, pkg: string): string {
  return INSTALL[family] ? `${INSTALL[family]} ${pkg}` : `install ${pkg}`;
}

/** What is missing for any UKI at all (both generators need it), each with its fix. */
export function ukiPrerequisites(t: UkiToolchain): { detail: string; fix?: string }[] {
  const out: { detail: string; fix?: string }[] = [];
  if (t.systemd !== null && t.systemd < 254)
    out.push({ detail: `kernel-install of systemd ${t.systemd} cannot build a UKI: its plugins get no image type and there is no 60-ukify.install before systemd 254`, fix: 'upgrade systemd to 254 or later (Debian 12: bookworm-backports), or keep layout=bls' });
  if (!t.ukify) out.push({ detail: 'ukify is not installed; both systemd\'s and mkosi\'s UKI generators run it', fix: installCmd(t.family, ukifyPackage(t.family, t.codename)) });
  if (!t.stub) out.push({ detail: `the EFI stub (${stubPath(t.arch)}) is missing: a UKI is that stub with the kernel, initrd and command line added`, fix: installCmd(t.family, stubPackage(t.family, t.codename)) });
  return out;
}

/** Picks a generator; `wanted` is the user's explicit choice, refused with the reason when it cannot work. */
export function pickUkiGenerator(t: UkiToolchain, wanted?: UkiGenerator): GeneratorChoice {
  const problems = ukiPrerequisites(t);
  if (wanted === 'mkosi' && (t.mkosiMajor ?? 0) < 25)
    problems.push({
      detail: t.mkosiMajor
        ? `uki_generator=mkosi needs mkosi >= 25: the plugin of mkosi ${t.mkosiMajor} writes its UKI under a name kernel-install does not copy to the ESP`
        : 'uki_generator=mkosi needs mkosi >= 25, which is not installed',
      fix: 'use uki_generator=ukify (the default here)',
    });
  else if (wanted === 'mkosi')
    // Measured with mkosi 25.3 ("sd-stub not found at /usr/lib/systemd/boot/efi/linuxx64.efi.stub in the image"); 27.1 has the same check.
    problems.push({
      detail: `uki_generator=mkosi: mkosi ${t.mkosiMajor} builds the UKI with the EFI stub from inside the image it builds, and mkosi-initrd's configuration installs no stub package, so every kernel-install would stop with "sd-stub not found"`,
      fix: 'use uki_generator=ukify (the default), which wraps the same mkosi-initrd initrd with this system\'s stub',
    });
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    generator: 'ukify',
    why: `systemd ${t.systemd ?? ''}'s 60-ukify.install wraps mkosi-initrd's initrd into the UKI with ukify, as kernel-install does by default${t.systemd !== null && t.systemd < 257 ? ' (systemd < 257 needs uki_generator=ukify said explicitly)' : ''}`.replace('systemd \'s', "systemd's"),
  };
}
