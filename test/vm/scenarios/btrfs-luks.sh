#@description: Fedora laptop default: GPT with vfat ESP (/boot/efi), ext4 /boot, LUKS2 -> btrfs with subvolumes root and home; / is subvol=root
#@disks: 1300M
#@cmdline: root=UUID=1b2c3d4e-0002-4e4f-9a6b-7c8d9e0f1a2b ro rootflags=subvol=root rd.luks.uuid=luks-1b2c3d4e-0001-4e4f-9a6b-7c8d9e0f1a2b rhgb quiet
#@expect-features: luks btrfs
#@expect-unsupported:
#@suites: bookworm trixie
LUKS_UUID=1b2c3d4e-0001-4e4f-9a6b-7c8d9e0f1a2b
BTRFS_UUID=1b2c3d4e-0002-4e4f-9a6b-7c8d9e0f1a2b
BOOT_UUID=1b2c3d4e-0003-4e4f-9a6b-7c8d9e0f1a2b
ESP_ID=1B2C-3D4E
NAME=luks-$LUKS_UUID

scenario_build() {
  iw_gpt /dev/vda 1b2c3d4e-00aa-4e4f-9a6b-7c8d9e0f1a2b <<'P'
size=100MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System Partition"
size=256MiB, type=BC13C2FF-59E6-4262-A352-B275FD6F7172
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
P
  mkfs.vfat -F 32 -i "${ESP_ID/-/}" -n "EFI-SYSTEM" /dev/vda1 >/dev/null
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  iw_luks_format /dev/vda3 "$LUKS_UUID" root
  iw_luks_open /dev/vda3 "$NAME" root --allow-discards
  modprobe btrfs
  mkfs.btrfs -q -U "$BTRFS_UUID" -L fedora "/dev/mapper/$NAME"
  iw_settle
  mount "/dev/mapper/$NAME" /mnt
  btrfs -q subvolume create /mnt/root
  btrfs -q subvolume create /mnt/home
  umount /mnt
  mount -o subvol=root,compress=zstd:1 "/dev/mapper/$NAME" "$NEWROOT"
  mkdir -p "$NEWROOT/home" "$NEWROOT/boot"
  mount -o subvol=home,compress=zstd:1 "/dev/mapper/$NAME" "$NEWROOT/home"
  mount /dev/vda2 "$NEWROOT/boot"
  mkdir -p "$NEWROOT/boot/efi"
  modprobe -a vfat nls_cp437 nls_ascii
  mount -o umask=0077,shortname=winnt /dev/vda1 "$NEWROOT/boot/efi"
}

scenario_configure() {
  cat > "$NEWROOT/etc/fstab" <<FSTAB

#
# /etc/fstab
# Created by anaconda
#
# Accessible filesystems, by reference, are maintained under '/dev/disk/'.
# See man pages fstab(5), findfs(8), mount(8) and/or blkid(8) for more info.
#
# After editing this file, run 'systemctl daemon-reload' to update systemd
# units generated from this file.
#
UUID=$BTRFS_UUID /                       btrfs   subvol=root,compress=zstd:1 0 0
UUID=$BOOT_UUID /boot                   ext4    defaults        1 2
UUID=$ESP_ID          /boot/efi               vfat    umask=0077,shortname=winnt 0 2
UUID=$BTRFS_UUID /home                   btrfs   subvol=home,compress=zstd:1 0 0
FSTAB
  echo "$NAME UUID=$LUKS_UUID none discard" > "$NEWROOT/etc/crypttab"
  iw_write_kernel_cmdline
}
