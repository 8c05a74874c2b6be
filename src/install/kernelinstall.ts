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

export async function kernelInstallEnv(root: Root): Promise<Record<string, string>> {
  if (root.dir === '/') return {};
  const machineId = ((await root.readText('/etc/machine-id')) ?? '').trim();
  return {
    KERNEL_INSTALL_CONF_ROOT: root.at('/etc/kernel'),
    BOOT_ROOT: root.at('/boot'),
    ...(machineId ? { MACHINE_ID: machineId } : {}),
    KERNEL_INSTALL_PLUGINS: (await discoverPlugins(root)).join(' '),
  };
}
