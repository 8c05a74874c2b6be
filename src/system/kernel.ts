/** Where an installed kernel's image is. */
import type { HostFs } from './files.js';

/** The kernel image QEMU boots: where mkosi looks first, then /boot. */
export async function kernelImage(fs: HostFs, kver: string): Promise<string | null> {
  for (const p of [`/usr/lib/modules/${kver}/vmlinuz`, `/boot/vmlinuz-${kver}`]) {
    if ((await fs.stat(p).catch(() => null))?.isFile()) return fs.resolve(p);
  }
  return null;
}
