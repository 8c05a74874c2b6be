#@description: Debian-installer "encrypted LVM": ESP, ext4 /boot, LUKS2 -> LVM VG with root and swap LVs; resume= to the swap LV (hibernation)
#@disks: 1200M
#@cmdline: root=/dev/mapper/iw--guest--vg-root ro resume=UUID=5b0c1d2e-0002-4f3a-8b9c-0d1e2f3a4b5c quiet
#@expect-features: luks lvm hibernate
#@expect-unsupported:
#@suites: bookworm trixie
LUKS_UUID=5b0c1d2e-0001-4f3a-8b9c-0d1e2f3a4b5c
SWAP_UUID=5b0c1d2e-0002-4f3a-8b9c-0d1e2f3a4b5c
ROOT_UUID=5b0c1d2e-0003-4f3a-8b9c-0d1e2f3a4b5c
BOOT_UUID=5b0c1d2e-0004-4f3a-8b9c-0d1e2f3a4b5c
ESP_ID=5B0C-1D2E
VG=iw-guest-vg

scenario_build() {
  iw_gpt /dev/vda 5b0c1d2e-aaaa-4f3a-8b9c-0d1e2f3a4b5c <<'P'
size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
size=192MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
P
  mkfs.vfat -i "${ESP_ID/-/}" /dev/vda1 >/dev/null
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  iw_luks_format /dev/vda3 "$LUKS_UUID" vda3_crypt
  iw_luks_open /dev/vda3 vda3_crypt vda3_crypt --allow-discards
  pvcreate -q /dev/mapper/vda3_crypt
  vgcreate -q "$VG" /dev/mapper/vda3_crypt
  lvcreate -q -y -L 160M -n swap_1 "$VG"
  lvcreate -q -y -l 100%FREE -n root "$VG"
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/iw--guest--vg-root
  mkswap -U "$SWAP_UUID" /dev/mapper/iw--guest--vg-swap_1
  iw_settle
  mount /dev/mapper/iw--guest--vg-root "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda2 "$NEWROOT/boot"
  mkdir -p "$NEWROOT/boot/efi"
  modprobe -a vfat nls_cp437 nls_ascii
  mount /dev/vda1 "$NEWROOT/boot/efi"
  swapon /dev/mapper/iw--guest--vg-swap_1
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/iw--guest--vg-root /               ext4    errors=remount-ro 0       1"
    echo "# /boot was on /dev/vda2 during installation"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
    echo "# /boot/efi was on /dev/vda1 during installation"
    echo "UUID=$ESP_ID  /boot/efi       vfat    umask=0077      0       1"
    echo "/dev/mapper/iw--guest--vg-swap_1 none            swap    sw              0       0"
  } > "$NEWROOT/etc/fstab"
  echo "vda3_crypt UUID=$LUKS_UUID none luks,discard" > "$NEWROOT/etc/crypttab"
  iw_write_kernel_cmdline
  iw_set_resume /dev/mapper/iw--guest--vg-swap_1
}
