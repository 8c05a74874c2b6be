/**
 * Why a systemd-only initrd built from packages cannot bring each unsupported
 * setup up, and what to do instead. The advice always keeps the generator the
 * host uses now (dracut, initramfs-tools, mkinitcpio): it stays installed and
 * keeps building working initrds for these hosts, and the advice names what
 * that generator offers only where it is so. Nothing it suggests writes where
 * data could be.
 */
import type { UnsupportedFinding, UnsupportedId } from './report.js';
import type { InitrdGenerator } from './generator.js';

const keep = (g: InitrdGenerator | null) =>
  g ? `Keep ${g} as the initrd generator (it stays installed; do not set initrd_generator=mkosi-initrd)` : `Keep the initrd generator this host uses now (do not set initrd_generator=mkosi-initrd)`;

/** What the generator itself offers for the setup, where known; `then` follows the "keep" sentence. */
type Extra = Partial<Record<InitrdGenerator, string>> & { any?: string };

const TEXT: Record<UnsupportedId, { what: string; why: string; extra: Extra }> = {
  iscsi: {
    what: 'the device is an iSCSI LUN',
    why: 'logging in to an iSCSI target needs iscsid, the initiator name and the target configuration before the root can appear; mkosi-initrd has no profile for it and the Fedora change leaves iSCSI out of scope',
    extra: { dracut: "; dracut's iscsi module handles rd.iscsi.* and iBFT.", 'initramfs-tools': "; open-iscsi's initramfs-tools hook logs in (enabled by /etc/iscsi/iscsi.initramfs or iscsi_* on the kernel command line)." },
  },
  fcoe: {
    what: 'the device is reached over FCoE',
    why: 'FCoE needs fcoe-utils, lldpad and DCB setup on the network interface before the disk appears; nothing in a package-built initrd starts them',
    extra: { dracut: "; dracut's fcoe module handles fcoe= on the command line." },
  },
  'nvme-of': {
    what: 'the device is an NVMe-over-Fabrics namespace (TCP, RDMA or FC transport)',
    why: 'connecting to an NVMe-oF controller needs nvme-cli, a host NQN and network setup in the initrd; mkosi-initrd has no profile for it',
    extra: { dracut: "; dracut's nvmf module handles rd.nvmf.* and NBFT." },
  },
  nbd: {
    what: 'the device is a network block device (NBD)',
    why: 'the NBD client must connect to its server before the root exists, which needs networking and nbd-client configuration in the initrd; mkosi-initrd does not provide it',
    extra: { dracut: "; dracut's nbd module handles root=nbd:… and netroot=nbd:….", 'initramfs-tools': "; nbd-client's initramfs-tools script connects (nbdroot= on the kernel command line)." },
  },
  multipath: {
    what: 'the device is a device-mapper multipath map',
    why: 'multipathd, its udev rules, /etc/multipath.conf and the WWID bindings must be in the initrd, or the root is opened through one path and the map cannot be built; mkosi-initrd has no multipath profile',
    extra: { dracut: "; dracut's multipath module carries multipath-tools and your multipath.conf.", 'initramfs-tools': '; the multipath-tools-boot package puts multipathd and your multipath.conf into it.' },
  },
  dmraid: {
    what: 'the device is a BIOS/firmware RAID set assembled by dmraid',
    why: 'dmraid is not packaged for mkosi-initrd and systemd has no support for it; without it the array is never assembled',
    extra: { any: "; for Intel (IMSM) sets consider migrating to mdadm, which mkosi-initrd's raid profile supports." },
  },
  zfs: {
    what: 'the filesystem is ZFS',
    why: 'ZFS is an out-of-tree kernel module with its own import logic (zpool import, keylocation); distribution repositories that mkosi-initrd installs from do not provide it',
    extra: { dracut: ' with the zfs-dracut module, or use the generator your ZFS distribution documents.', 'initramfs-tools': ' with the zfs-initramfs package.', any: ', as your ZFS distribution documents.' },
  },
  bcache: {
    what: 'the device is a bcache device',
    why: 'bcache needs bcache-tools\' udev rules to register the backing and cache devices before the root appears; mkosi-initrd does not carry them',
    extra: { dracut: "; dracut's bcache module registers the devices.", 'initramfs-tools': "; bcache-tools' initramfs-tools hook registers the devices." },
  },
  stratis: {
    what: 'the filesystem lives in a Stratis pool',
    why: 'Stratis pools are set up by stratisd and stratis-min in the initrd, which mkosi-initrd has no profile for',
    extra: { dracut: '; its stratis module sets up the pool (stratis.rootfs.pool_uuid=).' },
  },
  cifs: {
    what: 'the root is a CIFS/SMB network share',
    why: 'mounting CIFS from the initrd needs network setup, credentials and cifs-utils, which mkosi-initrd does not provide',
    extra: { dracut: '; its cifs module handles root=cifs://….' },
  },
  'luks-detached-header': {
    what: 'the LUKS volume uses a detached header (the header is not on the encrypted device)',
    why: 'the initrd must read the header from another file or device; mkosi-initrd copies crypttab lines but not header files, and nothing orders the header device before the unlock',
    // The safe course depends on where the data starts: detachedHeaderAdvice says it for the device at hand.
    extra: {},
  },
  'plain-dm-crypt': {
    what: 'the device is plain dm-crypt (no LUKS header)',
    why: 'with no header there is nothing to detect: the cipher, key size and offset must come from a crypttab line with exact options, which mkosi-initrd only carries when marked x-initrd.attach, and a wrong guess maps garbage',
    extra: { any: ', or convert the volume to LUKS2 (cryptsetup reencrypt --encrypt) before switching.' },
  },
  'unknown-dm': {
    what: 'the device is a device-mapper target this tool does not recognise',
    why: 'whatever created it (a vendor tool, a hand-written dmsetup table) must also run in the initrd, and a package-built initrd does not know to include it',
    extra: { dracut: ", which copies the host's device-mapper setup; report the snapshot so support can be added.", any: '; report the snapshot so support can be added.' },
  },
};

export function unsupportedFinding(id: UnsupportedId, device: string, generator: InitrdGenerator | null, detail?: string, advice?: string): UnsupportedFinding {
  const t = TEXT[id];
  return {
    id,
    device,
    reason: `${device}: ${t.what}${detail ? ` (${detail})` : ''}. A systemd-only initrd built from packages cannot bring it up: ${t.why}.`,
    advice: advice ?? `${keep(generator)}${(generator && t.extra[generator]) ?? t.extra.any ?? '.'}`,
  };
}

const MiB_SECTORS = 2048;

/**
 * What to do about a detached LUKS header, for where the encrypted data
 * starts on its device (the crypt table's offset, in 512-byte sectors; null
 * when the snapshot has no table). Putting the header back onto the device
 * (luksHeaderRestore) writes it over the device's first sectors: at offset 0
 * those are the start of the encrypted data, so it is never suggested there
 * or when the offset is unknown.
 */
export function detachedHeaderAdvice(generator: InitrdGenerator | null, dataDevice: string, offsetSectors: number | null, header: string | null, mapping: string): string {
  const KEEP = keep(generator);
  const hdr = header ?? 'HEADER-FILE';
  if (offsetSectors === 0) {
    return `${KEEP}. The encrypted data on ${dataDevice} starts at its first sector, so there is no room for the header on it: do not run cryptsetup luksHeaderRestore on ${dataDevice}, which would overwrite the start of the data.`;
  }
  if (offsetSectors === null) {
    return `${KEEP}. Whether the header could go back onto ${dataDevice} depends on where its data starts (the offset field of \`dmsetup table ${mapping}\`): at 0 there is no room, and cryptsetup luksHeaderRestore there would overwrite the start of the data.`;
  }
  const room = offsetSectors >= MiB_SECTORS ? `${(offsetSectors / MiB_SECTORS).toFixed(offsetSectors % MiB_SECTORS ? 1 : 0)} MiB` : `${offsetSectors * 512} bytes`;
  return (
    `${KEEP}. The data on ${dataDevice} starts ${offsetSectors} sectors (${room}) in, so the header may fit in front of it: ` +
    `only if \`cryptsetup luksDump ${hdr}\` shows a data offset of ${offsetSectors} sectors and a header no larger than that, ` +
    `back up those first sectors (dd if=${dataDevice} of=FIRST-SECTORS bs=512 count=${offsetSectors}), then cryptsetup luksHeaderRestore ${dataDevice} --header-backup-file ${hdr}.`
  );
}
