#@description: plain dm-crypt (cryptsetup open --type plain, aes-xts-plain64, sha512-hashed passphrase, no header anywhere) with ext4 root; ext4 /boot on a plain partition
#@disks: 1G
#@cmdline: root=/dev/mapper/cryptroot ro quiet
#@expect-features:
#@expect-unsupported: plain-dm-crypt
ROOT_UUID=e38e9f0a-0001-4b1c-8d3e-4f5a6b7c8d9e
BOOT_UUID=e38e9f0a-0002-4b1c-8d3e-4f5a6b7c8d9e
P2_UUID=e38e9f0a-0003-4b1c-8d3e-4f5a6b7c8d9e

scenario_build() {
  iw_gpt /dev/vda e38e9f0a-00aa-4b1c-8d3e-4f5a6b7c8d9e <<P
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=200MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$P2_UUID, name="cryptroot"
P
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  local pass; pass=$(iw_keyfile cryptroot)
  # As systemd-cryptsetup would for "plain,cipher=aes-xts-plain64,size=512,hash=sha512" and a typed passphrase.
  cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --hash sha512 \
    "/dev/disk/by-partuuid/$P2_UUID" cryptroot < "$pass"
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/cryptroot
  iw_settle
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
  echo "cryptroot PARTUUID=$P2_UUID none plain,cipher=aes-xts-plain64,size=512,hash=sha512" > "$NEWROOT/etc/crypttab"
}
