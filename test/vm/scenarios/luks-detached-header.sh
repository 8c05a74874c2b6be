#@description: LUKS2 with a detached header kept in /boot (ext4 on a plain partition); the data partition has no header; ext4 root on it; crypttab header=
#@disks: 1G
#@cmdline: root=/dev/mapper/cryptroot ro quiet
#@expect-features: luks
#@expect-unsupported: luks-detached-header
LUKS_UUID=f49f0a1b-0001-4c2d-9e4f-5a6b7c8d9e0f
ROOT_UUID=f49f0a1b-0002-4c2d-9e4f-5a6b7c8d9e0f
BOOT_UUID=f49f0a1b-0003-4c2d-9e4f-5a6b7c8d9e0f
P3_UUID=f49f0a1b-0004-4c2d-9e4f-5a6b7c8d9e0f
HDR=/boot/luks/cryptroot.header

scenario_build() {
  iw_gpt /dev/vda f49f0a1b-00aa-4c2d-9e4f-5a6b7c8d9e0f <<P
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=200MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$P3_UUID, name="data"
P
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  mkdir -p /mnt/boot
  mount /dev/vda2 /mnt/boot
  mkdir -p /mnt/boot/luks
  iw_luks_format /dev/vda3 "$LUKS_UUID" cryptroot --header "/mnt$HDR"
  iw_luks_open /dev/vda3 cryptroot cryptroot --header "/mnt$HDR"
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/cryptroot
  iw_settle
  umount /mnt/boot
  mount /dev/mapper/cryptroot "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda2 "$NEWROOT/boot"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/cryptroot /               ext4    errors=remount-ro 0       1"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
  } > "$NEWROOT/etc/fstab"
  echo "cryptroot PARTUUID=$P3_UUID none luks,header=$HDR" > "$NEWROOT/etc/crypttab"
}
