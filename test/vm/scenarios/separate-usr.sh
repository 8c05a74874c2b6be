#@description: / on a plain ext4 partition, /usr on its own ext4 LV (VG on a second partition)
#@disks: 1200M
#@cmdline: root=UUID=c16c7d8e-0001-4f9a-8b1c-2d3e4f5a6b7c ro quiet
#@expect-features: plain lvm
#@expect-unsupported:
ROOT_UUID=c16c7d8e-0001-4f9a-8b1c-2d3e4f5a6b7c
USR_UUID=c16c7d8e-0002-4f9a-8b1c-2d3e4f5a6b7c

scenario_build() {
  iw_gpt /dev/vda c16c7d8e-00aa-4f9a-8b1c-2d3e4f5a6b7c <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=420MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm"
P
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/vda2
  pvcreate -q /dev/vda3
  vgcreate -q vg0 /dev/vda3
  lvcreate -q -y -l 100%FREE -n usr vg0
  iw_settle
  mkfs.ext4 -q -U "$USR_UUID" /dev/mapper/vg0-usr
  iw_settle
  mount /dev/vda2 "$NEWROOT"
  mkdir -p "$NEWROOT/usr"
  mount /dev/mapper/vg0-usr "$NEWROOT/usr"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1"
    echo "/dev/mapper/vg0-usr /usr            ext4    defaults        0       2"
  } > "$NEWROOT/etc/fstab"
}
