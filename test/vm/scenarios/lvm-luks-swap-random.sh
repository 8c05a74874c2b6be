#@description: LVM root (unencrypted VG on a partition); swap LV encrypted with a random key at every boot (crypttab: /dev/urandom, swap), so it cannot hold a hibernation image; no resume=
#@disks: 1200M
#@cmdline: root=/dev/mapper/vg0-root ro quiet
#@expect-features: lvm
#@expect-unsupported:
BOOT_UUID=5f6a7b8c-0001-4c8d-9e0f-1a2b3c4d5e6f
ROOT_UUID=5f6a7b8c-0002-4c8d-9e0f-1a2b3c4d5e6f

scenario_build() {
  iw_gpt /dev/vda 5f6a7b8c-00aa-4c8d-9e0f-1a2b3c4d5e6f <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=200MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"
type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm"
P
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  pvcreate -q /dev/vda3
  vgcreate -q vg0 /dev/vda3
  lvcreate -q -y -L 128M -n swap vg0
  lvcreate -q -y -l 100%FREE -n root vg0
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/vg0-root
  # What systemd-cryptsetup does for "cryptswap /dev/vg0/swap /dev/urandom swap,cipher=aes-xts-plain64,size=512".
  cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file /dev/urandom \
    --keyfile-size 64 /dev/vg0/swap cryptswap
  iw_settle
  mkswap /dev/mapper/cryptswap
  iw_settle
  mount /dev/mapper/vg0-root "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda2 "$NEWROOT/boot"
  swapon /dev/mapper/cryptswap
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/vg0-root /               ext4    errors=remount-ro 0       1"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
    echo "/dev/mapper/cryptswap none            swap    sw              0       0"
  } > "$NEWROOT/etc/fstab"
  echo "cryptswap /dev/vg0/swap /dev/urandom swap,cipher=aes-xts-plain64,size=512" > "$NEWROOT/etc/crypttab"
}
