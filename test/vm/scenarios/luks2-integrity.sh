#@description: LUKS2 with authenticated encryption (luksFormat --integrity hmac-sha256: dm-crypt over its own <name>_dif dm-integrity device) with ext4 root; ESP, ext4 /boot; crypttab by UUID
#@disks: 1000M
#@cmdline: root=UUID=6d7e8f90-0002-4a1b-8c2d-3e4f5a6b7c8d ro rd.luks.uuid=6d7e8f90-0001-4a1b-8c2d-3e4f5a6b7c8d quiet
#@expect-features: luks integrity
#@expect-unsupported:
#@suites: bookworm trixie
#@timeout: 720
LUKS_UUID=6d7e8f90-0001-4a1b-8c2d-3e4f5a6b7c8d
ROOT_UUID=6d7e8f90-0002-4a1b-8c2d-3e4f5a6b7c8d
BOOT_UUID=6d7e8f90-0003-4a1b-8c2d-3e4f5a6b7c8d
ESP_ID=6D7E-8F90
NAME=luks-$LUKS_UUID

scenario_build() {
  iw_gpt /dev/vda 6d7e8f90-00aa-4a1b-8c2d-3e4f5a6b7c8d <<'P'
size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
size=192MiB, type=BC13C2FF-59E6-4262-A352-B275FD6F7172
type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
P
  mkfs.vfat -i "${ESP_ID/-/}" /dev/vda1 >/dev/null
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  modprobe -a dm_integrity authenc
  # luksFormat wipes the whole device through the new integrity layer (the tags must be valid before
  # anything reads a sector); the partition is kept small for that.
  iw_luks_format /dev/vda3 "$LUKS_UUID" root --integrity hmac-sha256
  iw_luks_open /dev/vda3 "$NAME" root
  mkfs.ext4 -q -U "$ROOT_UUID" "/dev/mapper/$NAME"
  iw_settle
  mount "/dev/mapper/$NAME" "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda2 "$NEWROOT/boot"
  mkdir -p "$NEWROOT/boot/efi"
  modprobe -a vfat nls_cp437 nls_ascii
  mount -o umask=0077 /dev/vda1 "$NEWROOT/boot/efi"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
    echo "UUID=$ESP_ID  /boot/efi       vfat    umask=0077      0       1"
  } > "$NEWROOT/etc/fstab"
  echo "$NAME UUID=$LUKS_UUID none luks" > "$NEWROOT/etc/crypttab"
  iw_write_kernel_cmdline
}
