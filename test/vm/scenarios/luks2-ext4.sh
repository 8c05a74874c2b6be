#@description: Debian-installer "encrypted root" without LVM: ESP, ext4 /boot, LUKS2 (argon2id) with ext4 root; crypttab "luks,discard"
#@disks: 1200M
#@cmdline: root=/dev/mapper/vda3_crypt ro quiet
#@expect-features: luks
#@expect-unsupported:
#@suites: trixie
LUKS_UUID=8e9f0a1b-0001-4c2d-9e3f-4a5b6c7d8e9f
ROOT_UUID=8e9f0a1b-0002-4c2d-9e3f-4a5b6c7d8e9f
BOOT_UUID=8e9f0a1b-0003-4c2d-9e3f-4a5b6c7d8e9f
ESP_ID=8E9F-0A1B

scenario_build() {
  iw_gpt /dev/vda 8e9f0a1b-00aa-4c2d-9e3f-4a5b6c7d8e9f <<'P'
size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
size=192MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
P
  mkfs.vfat -i "${ESP_ID/-/}" /dev/vda1 >/dev/null
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  iw_luks_format /dev/vda3 "$LUKS_UUID" vda3_crypt
  iw_luks_open /dev/vda3 vda3_crypt vda3_crypt --allow-discards
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/vda3_crypt
  iw_settle
  mount /dev/mapper/vda3_crypt "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda2 "$NEWROOT/boot"
  mkdir -p "$NEWROOT/boot/efi"
  modprobe -a vfat nls_cp437 nls_ascii
  mount -o umask=0077 /dev/vda1 "$NEWROOT/boot/efi"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/vda3_crypt /               ext4    errors=remount-ro 0       1"
    echo "# /boot was on /dev/vda2 during installation"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
    echo "# /boot/efi was on /dev/vda1 during installation"
    echo "UUID=$ESP_ID  /boot/efi       vfat    umask=0077      0       1"
  } > "$NEWROOT/etc/fstab"
  echo "vda3_crypt UUID=$LUKS_UUID none luks,discard" > "$NEWROOT/etc/crypttab"
  iw_write_kernel_cmdline
}
