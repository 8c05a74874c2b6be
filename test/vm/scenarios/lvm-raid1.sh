#@description: LVM RAID1 (lvmraid, lvcreate --type raid1 -m 1, dm-raid target, not mdadm) root LV in a VG over a partition on the first disk and the whole second disk; ext4 /boot on a plain partition
#@disks: 900M 900M
#@cmdline: root=/dev/mapper/vg0-root ro quiet
#@expect-features: lvm
#@expect-unsupported:
BOOT_UUID=4b6c8d9e-0001-4f1a-9b2c-3d4e5f6a7b8c
ROOT_UUID=4b6c8d9e-0002-4f1a-9b2c-3d4e5f6a7b8c

scenario_build() {
  iw_gpt /dev/vda 4b6c8d9e-00aa-4f1a-9b2c-3d4e5f6a7b8c <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=200MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"
type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm"
P
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/vda2
  # The dm-raid target (lvcreate would load it too; loading it here makes a guest without it fail plainly).
  modprobe dm_raid || iw_fail "the guest has no dm_raid module (build-guest.sh MODULES)"
  pvcreate -q /dev/vda3 /dev/vdb
  vgcreate -q vg0 /dev/vda3 /dev/vdb
  # One image (rimage + rmeta of one extent) on each PV; vda3 (~698 MiB) bounds the size.
  lvcreate -q -y --type raid1 -m 1 -L 640M -n root vg0
  iw_settle
  # Let the initial resync finish (bounded), so the snapshot shows a settled array.
  local i
  for i in $(seq 1 120); do
    case "$(lvs --noheadings -o sync_percent vg0/root | tr -d ' ')" in 100.00) break ;; esac
    sleep 1
  done
  lvs -a -o name,segtype,devices,sync_percent vg0 > /dev/console 2>&1 || true
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
