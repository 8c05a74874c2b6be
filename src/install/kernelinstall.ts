/**
 * Running the real kernel-install against a root. systemd 252–254 have no
 * --root, but honour KERNEL_INSTALL_CONF_ROOT, BOOT_ROOT, MACHINE_ID and
 * KERNEL_INSTALL_PLUGINS; plugin discovery is redone here the way
 * kernel-install does it: /etc overrides /usr/lib by name, a /dev/null
 * symlink masks.
 */
import type { Root } from './fsops.js';

export async function discoverPlugins(root: Root): Promise<string[]> {
  const byName = new Map<string, string | null>();
  for (const dir of ['/usr/lib/kernel/install.d', '/etc/kernel/install.d']) {
    const names = (await root.list(dir)).filter((n) => n.endsWith('.install'));
    for (const n of names) {
      const st = await root.state(`${dir}/${n}`);
      byName.set(n, st.type === 'symlink' && st.target === '/dev/null' ? null : root.at(`${dir}/${n}`));
    }
  }
  return [...byName.entries()].filter(([, p]) => p !== null).sort(([a], [b]) => (a < b ? -1 : 1)).map(([, p]) => p!);
}

/** `boot`: $BOOT inside the root (layout uki may find it at /efi or /boot/efi). */
export async function kernelInstallEnv(root: Root, boot = '/boot'): Promise<Record<string, string>> {
  if (root.dir === '/') return {};
  const machineId = ((await root.readText('/etc/machine-id')) ?? '').trim();
  return {
    KERNEL_INSTALL_CONF_ROOT: root.at('/etc/kernel'),
    BOOT_ROOT: root.at(boot),
    ...(machineId ? { MACHINE_ID: machineId } : {}),
    KERNEL_INSTALL_PLUGINS: (await discoverPlugins(root)).join(' '),
  };
}

export interface Inspected {
  /** $BOOT as kernel-install will use it (a path on this system, not inside the root). */
  bootRoot: string;
  entryToken: string;
}

/**
 * What `kernel-install inspect` says the entry token and $BOOT are: the
 * token is not always the machine ID (Debian's 257 picks the os-release ID
 * "debian" when the machine ID is not yet committed). JSON from systemd 255
 * on, the text form before.
 */
export function parseInspect(stdout: string): Inspected | null {
  const text = stdout.trim();
  if (text.startsWith('{')) {
    try {
      const j = JSON.parse(text) as { BootRoot?: unknown; EntryToken?: unknown };
      if (typeof j.BootRoot === 'string' && typeof j.EntryToken === 'string' && j.EntryToken) return { bootRoot: j.BootRoot, entryToken: j.EntryToken };
    } catch {
      return null;
    }
    return null;
  }
  const boot = /^\s*\$BOOT:\s*(\S+)\s*$/m.exec(text)?.[1];
  const token = /^\s*Token:\s*(\S+)\s*$/m.exec(text)?.[1];
  return boot && token ? { bootRoot: boot, entryToken: token } : null;
}
