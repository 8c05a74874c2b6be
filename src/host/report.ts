/** The HostReport: what the initrd must bring up, and what it cannot. Plain data; `detect --json` prints it. */
import type { InitrdGenerator } from './generator.js';

export const FEATURES = [
  'plain', 'luks', 'lvm', 'lvm-thin', 'raid', 'btrfs', 'nfs', 'hibernate',
  'tpm2', 'fido2', 'pkcs11', 'integrity', 'verity', 'network',
] as const;
export type Feature = (typeof FEATURES)[number];

export const UNSUPPORTED_IDS = [
  'iscsi', 'fcoe', 'nvme-of', 'nbd', 'multipath', 'dmraid', 'zfs', 'bcache', 'stratis', 'cifs',
  'luks-detached-header', 'plain-dm-crypt', 'unknown-dm',
] as const;
export type UnsupportedId = (typeof UNSUPPORTED_IDS)[number];

export type MountRole = 'root' | 'usr' | 'x-initrd' | 'resume';

export interface MountReport {
  target: string;
  role: MountRole;
  source: string;
  fstype: string;
  /** Device names from the physical device (partition or disk) up to the mounted device. */
  chain: string[];
  /** Whole disks underneath. */
  disks: string[];
  /**
   * The storage under the mount as a tree: the mounted device at the root, the
   * devices it is built from as children, down to the disks. A filesystem over
   * several devices (multi-device btrfs) has itself at the root, named by its
   * UUID. null when no block device is underneath (NFS, tmpfs, not in lsblk).
   */
  stack: StackNode | null;
  /** btrfs subvolume or bind root, when not the top. */
  subvolume?: string | null;
}

/** One device in a mount's storage tree. */
export interface StackNode {
  name: string;
  /** As lsblk says: disk, part, crypt, lvm, raid1, mpath, dm … */
  type: string;
  /** The devices this one is built from (lsblk's parents). */
  children: StackNode[];
  /** Present (true) when this device is already drawn, with its children, earlier in the tree: a device under two others is expanded once. */
  repeat?: true;
}

export interface UnsupportedFinding {
  id: UnsupportedId;
  device: string;
  reason: string;
  advice: string;
}

/** One block device the needed mounts sit on, for drawing the storage tree. */
export interface StorageDevice {
  kname: string;
  name: string;
  path: string | null;
  /** disk, part, crypt, lvm, raid1, mpath, dm, loop … as lsblk says, or what we inferred. */
  type: string;
  fstype: string | null;
  size: number | null;
  /** What we recognised it as: e.g. "LUKS2 (tokens: systemd-tpm2)", "LVM thin LV fedora/root". */
  role: string;
  parents: string[];
  /** Disk controller transport or driver hint: nvme, sata, virtio, usb, iscsi … */
  transport: string | null;
}

export interface CrypttabNeed {
  name: string;
  device: string;
  /** The line carries x-initrd.attach, so mkosi-initrd copies it into the image. */
  initrdAttach: boolean;
  options: string[];
}

/**
 * A fact needed to follow a mount the initrd must bring up down to the disks,
 * missing from the snapshot. Any of these makes the answer "cannot tell".
 */
export interface IncompleteFact {
  /** What could not be followed: a mount point, "the resume swap", "the block devices". */
  what: string;
  /** Why, naming the snapshot file that lacks the fact. */
  reason: string;
  /** What to do to get the answer. */
  next: string;
}

export interface HostReport {
  host: {
    os: string;
    osVersion: string;
    prettyName: string;
    idLike: string[];
    kernel: string;
    arch: string;
    /** The generator building this host's initrds now, by install.conf or the distribution's default; null when unknown. */
    initrdGenerator: InitrdGenerator | null;
  };
  mounts: MountReport[];
  features: Feature[];
  /** Why each feature was detected, in words a user can check. */
  featureReasons: Partial<Record<Feature, string[]>>;
  unsupported: UnsupportedFinding[];
  /** Needed facts the snapshot lacks; when not empty the answer is "cannot tell" (never "plain"). */
  incomplete: IncompleteFact[];
  warnings: string[];
  devices: StorageDevice[];
  crypttab: CrypttabNeed[];
  resume: { device: string; source: string; usable: boolean } | null;
  /** Kernel drivers the root disks' controllers need (virtio_blk, nvme, ahci …) when they can be inferred. */
  diskDrivers: string[];
  /** Kernel modules of device-mapper targets in the stack that no profile implies (dm_raid for LVM RAID). */
  targetModules: string[];
  /** Keymap from vconsole when known (LUKS passphrases are typed in it). */
  keymap: string | null;
}
