/**
 * The kernel command line a UKI gets, found the way systemd's kernel-install
 * plugins (60-ukify.install, 90-loaderentry.install) find it: the first of
 * /etc/kernel/cmdline and /usr/lib/kernel/cmdline, else the running
 * kernel's /proc/cmdline without the boot loader's BOOT_IMAGE= and initrd=.
 */
import type { HostFs } from '../system/files.js';

export const CMDLINE_FILES = ['/etc/kernel/cmdline', '/usr/lib/kernel/cmdline'] as const;

export type CmdlineSource = (typeof CMDLINE_FILES)[number] | '/proc/cmdline';

export interface KernelCmdline {
  options: string[];
  source: CmdlineSource;
}

/** Words of a cmdline file: comment lines dropped, whitespace collapsed (as 90-loaderentry.install does). */
export function parseCmdlineFile(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** /proc/cmdline minus what the boot loader added for this boot. */
export function filterProcCmdline(text: string): string[] {
  return text.split(/\s+/).filter((o) => o && !o.startsWith('BOOT_IMAGE=') && !o.startsWith('initrd='));
}

/**
 * `proc` is the host's or the snapshot's /proc/cmdline text (a snapshot
 * records it; on a live host it is read through fs). null when none is known.
 */
export async function kernelCmdline(fs: HostFs, proc?: string | null): Promise<KernelCmdline | null> {
  for (const file of CMDLINE_FILES) {
    const text = await fs.read(file).catch(() => null);
    if (text !== null) return { options: parseCmdlineFile(text), source: file };
  }
  const live = proc ?? (await fs.read('/proc/cmdline').catch(() => null));
  return live === null ? null : { options: filterProcCmdline(live), source: '/proc/cmdline' };
}

/** The value of the last `key=` option (the kernel and systemd both let the last one win). */
export function cmdlineValue(options: readonly string[], key: string): string | undefined {
  let found: string | undefined;
  for (const o of options) if (o.startsWith(`${key}=`)) found = o.slice(key.length + 1);
  return found;
}
