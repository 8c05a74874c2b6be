#@description: LVM thin pool on a partition, the root is a thin LV (over-provisioned 2 GiB on an 800 MiB pool); ext4 /boot plain
#@disks: 1200M
#@cmdline: root=/dev/mapper/vg0-root ro quiet
#@expect-features: lvm lvm-thin
#@expect-unsupported:
BOOT_UUID=af4a5b6c-0001-4d7e-8f1a-2b3c4d5e6f70
ROOT_UUID=af4a5b6c-0002-4d7e-8f1a-2b3c4d5e6f70

scenario_build() {
  iw_gpt /dev/vda af4a5b6c-00aa-4d7e-8f1a-2b3c4d5e6f70 <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=200MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"
type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm"
P
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  modprobe dm_thin_pool
  pvcreate -q /dev/vda3
  vgcreate -q vg0 /dev/vda3
  lvcreate -q -y --type thin-pool -L 800M -n pool0 vg0
  lvcreate -q -y --type thin -V 2G --thinpool pool0 -n root vg0
  iw_settle
  mkfs.ext4 -q -E nodiscard -U "$ROOT_UUID" /dev/mapper/vg0-root
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
