/** The kernel module each storage fact needs, declared once: the variant adds these and the image check looks for the same ones. */

/** Filesystem type (as lsblk/findmnt say) → the module that mounts it. */
export const FS_MODULES: Readonly<Record<string, string>> = {
  ext4: 'ext4', ext3: 'ext4', ext2: 'ext4', xfs: 'xfs', btrfs: 'btrfs', vfat: 'vfat', f2fs: 'f2fs', nfs: 'nfs', nfs4: 'nfsv4', erofs: 'erofs', squashfs: 'squashfs',
};

/** md RAID level (lsblk's TYPE) → the personality module that assembles it. */
export const RAID_LEVEL_MODULES: Readonly<Record<string, string>> = {
  raid0: 'raid0', raid1: 'raid1', raid4: 'raid456', raid5: 'raid456', raid6: 'raid456', raid10: 'raid10', linear: 'linear',
};

/** The module for a key of one of the maps above, without reaching Object.prototype ("constructor" is no filesystem). */
export function moduleFor(map: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
