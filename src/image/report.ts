/** Sizes and contents of a built image, next to the initrd the host uses now. */
import type { CpioImage } from './cpio.js';
import { isFile } from './cpio.js';
import type { ImageIndex } from './checks.js';

export interface ImageReport {
  compressedSize: number;
  unpackedSize: number;
  files: number;
  modules: number;
  kernelVersions: string[];
  segments: CpioImage['segments'];
  /** The biggest directories (two levels deep) by the size of the files under them. */
  largest: Array<{ path: string; size: number }>;
}

export function summarizeImage(image: CpioImage, index: ImageIndex, compressedSize: number): ImageReport {
  const dirs = new Map<string, number>();
  let unpacked = 0;
  let files = 0;
  for (const e of image.entries.values()) {
    if (!isFile(e)) continue;
    files++;
    unpacked += e.size;
    const parts = e.name.split('/');
    // usr/lib/modules and usr/lib/x86_64-linux-gnu are the interesting level.
    const depth = parts[0] === 'usr' ? 3 : 2;
    const key = parts.slice(0, Math.min(depth, parts.length - 1)).join('/') || '/';
    dirs.set(key, (dirs.get(key) ?? 0) + e.size);
  }
  const largest = [...dirs.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([path, size]) => ({ path: `/${path}`, size }));
  return { compressedSize, unpackedSize: unpacked, files, modules: index.moduleCount, kernelVersions: index.kernelVersions, segments: image.segments, largest };
}

/** Where distributions keep the initrd of a kernel. */
export function currentInitrdCandidates(kver: string, machineId: string | null): string[] {
  const out = [`/boot/initrd.img-${kver}`, `/boot/initramfs-${kver}.img`, `/boot/initrd-${kver}`];
  for (const root of ['/boot', '/efi', '/boot/efi']) {
    if (machineId) out.push(`${root}/${machineId}/${kver}/initrd`);
  }
  return out;
}
