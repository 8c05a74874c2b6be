#@description: standalone dm-integrity (integritysetup, crc32c tags, journal) on a partition with ext4 root; /etc/integritytab; ext4 /boot plain
#@disks: 900M
#@cmdline: root=/dev/mapper/introot ro quiet
#@expect-features: integrity
#@expect-unsupported:
ROOT_UUID=7b8c9d0e-0001-4e0f-9a1b-2c3d4e5f6a7b
BOOT_UUID=7b8c9d0e-0002-4e0f-9a1b-2c3d4e5f6a7b
P3_UUID=7b8c9d0e-0003-4e0f-9a1b-2c3d4e5f6a7b

scenario_build() {
  iw_gpt /dev/vda 7b8c9d0e-00aa-4e0f-9a1b-2c3d4e5f6a7b <<P
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=200MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$P3_UUID, name="introot"
P
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  modprobe dm_integrity
  integritysetup format -q --integrity crc32c /dev/vda3
  integritysetup open --integrity crc32c /dev/vda3 introot
  iw_settle
  mkfs.ext4 -q -E nodiscard -U "$ROOT_UUID" /dev/mapper/introot
  iw_settle
  mount /dev/mapper/introot "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda2 "$NEWROOT/boot"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/introot /               ext4    errors=remount-ro 0       1"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
  } > "$NEWROOT/etc/fstab"
  printf '# volume  device  keyfile  options\nintroot PARTUUID=%s - integrity-algorithm=crc32c\n' "$P3_UUID" > "$NEWROOT/etc/integritytab"
}
