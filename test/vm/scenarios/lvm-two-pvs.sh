#@description: one VG over two PVs (a partition on the first disk, the whole second disk); the root LV spans both; ext4 /boot on a plain partition
#@disks: 700M 600M
#@cmdline: root=/dev/mapper/vg0-root ro quiet
#@expect-features: lvm
#@expect-unsupported:
BOOT_UUID=9e3f4a5b-0001-4c6d-8e0f-1a2b3c4d5e6f
ROOT_UUID=9e3f4a5b-0002-4c6d-8e0f-1a2b3c4d5e6f

scenario_build() {
  iw_gpt /dev/vda 9e3f4a5b-00aa-4c6d-8e0f-1a2b3c4d5e6f <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=200MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"
type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm"
P
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  pvcreate -q /dev/vda3 /dev/vdb
  vgcreate -q vg0 /dev/vda3 /dev/vdb
  lvcreate -q -y -l 100%FREE -n root vg0
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/vg0-root
  iw_settle
  mount /dev/mapper/vg0-root "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda2 "$NEWROOT/boot"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/vg0-root /               ext4    errors=remount-ro 0       1"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
  } > "$NEWROOT/etc/fstab"
}
