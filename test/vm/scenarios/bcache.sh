#@description: bcache: a backing partition on the first disk cached by a partition of a second (SSD-like) disk (make-bcache -B … -C …, writeback), ext4 root on /dev/bcache0; ext4 /boot plain
#@disks: 1G 300M
#@cmdline: root=UUID=6a7b8c9d-0001-4d9e-8f0a-1b2c3d4e5f60 ro quiet
#@expect-features:
#@expect-unsupported: bcache
ROOT_UUID=6a7b8c9d-0001-4d9e-8f0a-1b2c3d4e5f60
BOOT_UUID=6a7b8c9d-0002-4d9e-8f0a-1b2c3d4e5f60

scenario_build() {
  iw_gpt /dev/vda 6a7b8c9d-00aa-4d9e-8f0a-1b2c3d4e5f60 <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=200MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="backing"
P
  iw_gpt /dev/vdb 6a7b8c9d-00bb-4d9e-8f0a-1b2c3d4e5f60 <<'P'
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="cache"
P
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  modprobe bcache
  make-bcache --wipe-bcache --writeback -B /dev/vda3 -C /dev/vdb1
  iw_settle
  # udev's 69-bcache.rules registers both; register by hand in case it did not.
  local i
  for i in $(seq 1 50); do [ -b /dev/bcache0 ] && break
    echo /dev/vda3 > /sys/fs/bcache/register 2>/dev/null || true
    echo /dev/vdb1 > /sys/fs/bcache/register 2>/dev/null || true
    sleep 0.2
  done
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/bcache0
  iw_settle
  mount /dev/bcache0 "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/vda2 "$NEWROOT/boot"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
  } > "$NEWROOT/etc/fstab"
}
