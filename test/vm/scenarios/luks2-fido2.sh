#@description: ESP, ext4 /boot, LUKS2 (keyslot 1 bound to a systemd-fido2 token, imported with cryptsetup token import) with ext4 root; crypttab fido2-device=auto
#@disks: 1200M
#@cmdline: root=UUID=4e5f6a7b-0002-4b7c-8d9e-0f1a2b3c4d5e ro rd.luks.uuid=4e5f6a7b-0001-4b7c-8d9e-0f1a2b3c4d5e rd.luks.options=fido2-device=auto quiet
#@expect-features: luks fido2
#@expect-unsupported:
LUKS_UUID=4e5f6a7b-0001-4b7c-8d9e-0f1a2b3c4d5e
ROOT_UUID=4e5f6a7b-0002-4b7c-8d9e-0f1a2b3c4d5e
BOOT_UUID=4e5f6a7b-0003-4b7c-8d9e-0f1a2b3c4d5e
ESP_ID=4E5F-6A7B
NAME=luks-$LUKS_UUID

scenario_build() {
  iw_gpt /dev/vda 4e5f6a7b-00aa-4b7c-8d9e-0f1a2b3c4d5e <<'P'
size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
size=192MiB, type=BC13C2FF-59E6-4262-A352-B275FD6F7172
type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
P
  mkfs.vfat -i "${ESP_ID/-/}" /dev/vda1 >/dev/null
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  iw_luks_format /dev/vda3 "$LUKS_UUID" root
  iw_luks_add_key /dev/vda3 root fido2
  iw_token_fido2 1 > /run/iw/token-fido2.json
  cryptsetup token import --token-id 0 --json-file /run/iw/token-fido2.json /dev/vda3
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
  echo "$NAME UUID=$LUKS_UUID none fido2-device=auto" > "$NEWROOT/etc/crypttab"
  iw_write_kernel_cmdline
}
