#@description: LUKS1 (pbkdf2) partition with ext4 root; crypttab "luks,discard"; ext4 /boot on a plain partition
#@disks: 1G
#@cmdline: root=/dev/mapper/sda2_crypt ro quiet
#@expect-features: luks
#@expect-unsupported:
LUKS_UUID=2c3d4e5f-0001-4f5a-8b7c-8d9e0f1a2b3c
ROOT_UUID=2c3d4e5f-0002-4f5a-8b7c-8d9e0f1a2b3c
BOOT_UUID=2c3d4e5f-0003-4f5a-8b7c-8d9e0f1a2b3c

scenario_build() {
  # An old installation: MBR label, /boot primary 1, LUKS1 on primary 2.
  { echo "label: dos"; echo "label-id: 0x2c3d4e5f"
    echo "size=200MiB, type=83, bootable"
    echo "type=83"
  } | sfdisk --quiet --wipe always /dev/vda
  iw_settle
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda1
  iw_luks_format /dev/vda2 "$LUKS_UUID" sda2_crypt --type luks1
  iw_luks_open /dev/vda2 sda2_crypt sda2_crypt --allow-discards
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/sda2_crypt
  iw_settle
  mount /dev/mapper/sda2_crypt "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda1 "$NEWROOT/boot"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/sda2_crypt /               ext4    errors=remount-ro 0       1"
    echo "# /boot was on /dev/sda1 during installation"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
  } > "$NEWROOT/etc/fstab"
  echo "sda2_crypt UUID=$LUKS_UUID none luks,discard" > "$NEWROOT/etc/crypttab"
}
