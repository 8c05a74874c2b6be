/**
 * Where kernel-install takes a prebuilt initrd from, as read in the sources
 * and run in tests (test/integration/export.test.ts on this machine's systemd
 * 254, test/slow/export.test.ts on trixie's 257 and sid's 262). The exported
 * spec's comments and READMEs say it from here, so they cannot disagree.
 */
import { wrapWords } from '../text/wrap.js';

/** The file the exported package installs: the name dracut's plugin reuses, and the name it keeps in a BLS entry. */
export const PREBUILT_INITRD_NAME = 'initrd';

export const prebuiltInitrdPath = (kver: string) => `/usr/lib/modules/${kver}/${PREBUILT_INITRD_NAME}`;

/** One paragraph each; `KVER` stands for the kernel version. */
export const PREBUILT_FACTS: readonly string[] = [
  "systemd's kernel-install never looks for an initrd in /usr/lib/modules/KVER/ itself. It uses the initrds named on its command line (kernel-install add KVER KERNEL-IMAGE INITRD...) and the files named initrd* that a plugin leaves in the staging area. Read in src/kernel-install/kernel-install.c, 90-loaderentry.install.in and 60-ukify.install.in at systemd v254 and v256 (systemd-stable tags); the plugins of Debian's systemd 257.13 (trixie) and 262.1 (sid) read the same, and their kernel-install behaves so in tests. 90-loaderentry.install copies each one into the entry directory under its own file name, so /usr/lib/modules/KVER/initrd becomes $BOOT/ENTRY-TOKEN/KVER/initrd; 60-ukify.install puts them into the UKI.",
  "mkosi's kernel-install plugin does not look for one either (kernel-install/50-mkosi.install at mkosi v24, v24.3, v25, v25.3 and v26): it skips its build only when initrds were passed on kernel-install's command line (\"Pre-built initrds were provided, skipping mkosi-initrd\"); otherwise it runs mkosi-initrd. Debian's mkosi 24.3 ships no plugin; initrd-wizard's own plugin for it skips in the same case.",
  "dracut's 50-dracut.install is the plugin that reuses a file there: when dracut is the initrd generator, it copies initrd from the kernel image's directory (${KERNEL_IMAGE%/*}/initrd, so /usr/lib/modules/KVER/initrd for a kernel at /usr/lib/modules/KVER/vmlinuz) into the staging area instead of building one (dracut 112 in sid; install.d/50-dracut.install in dracut-ng).",
  'So the package installs /usr/lib/modules/KVER/initrd and its %posttrans passes it to kernel-install: kernel-install add KVER KERNEL-IMAGE /usr/lib/modules/KVER/initrd. systemd 254, 257 and 262 then put that file into the boot entry byte for byte, and mkosi\'s plugin builds nothing (tested here with each). A later kernel-install add for this kernel that names no initrd (a reinstall of the kernel package) builds with the configured generator again: reinstall this package to put its initrd back.',
];

/** Words wrapped to `width` columns, each line starting with `prefix`. */
export function wrap(text: string, prefix: string, width = 100): string[] {
  const words = text.split(/\s+/).filter(Boolean).join(' ');
  return words ? wrapWords(words, width - prefix.length).map((l) => prefix + l) : [];
}
