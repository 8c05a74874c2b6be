#@description: one disk image attached twice (two virtio paths, same serial); a dm multipath map over both made with dmsetup (uuid mpath-…), a GPT on the map, kpartx-style partition maps, ext4 root on mpatha-part2
#@disks: 1G same:0
#@cmdline: root=/dev/mapper/mpatha-part2 ro quiet
#@expect-features:
#@expect-unsupported: multipath
WWID=3600140519a8f2c3d4e5f60718293a4b5
ROOT_UUID=d27d8e9f-0001-4a0b-9c2d-3e4f5a6b7c8d
BOOT_UUID=d27d8e9f-0002-4a0b-9c2d-3e4f5a6b7c8d

# part N START SIZE (sectors) as kpartx maps it
mpath_part() {
  dmsetup create "mpatha-part$1" --uuid "part$1-mpath-$WWID" --table "0 $3 linear /dev/mapper/mpatha $2"
}

scenario_build() {
  modprobe -a dm_multipath dm_round_robin
  local sectors; sectors=$(blockdev --getsz /dev/vda)
  dmsetup create mpatha --uuid "mpath-$WWID" \
    --table "0 $sectors multipath 0 0 1 1 round-robin 0 2 1 /dev/vda 1000 /dev/vdb 1000"
  iw_settle
  local p2start=411648 p2size=$(( sectors - 411648 - 4096 ))
  { echo "label: gpt"; echo "label-id: d27d8e9f-00aa-4a0b-9c2d-3e4f5a6b7c8d"
    echo "start=2048, size=409600, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=boot"
    echo "start=$p2start, size=$p2size, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root"
  } | sfdisk --quiet --no-reread --no-tell-kernel /dev/mapper/mpatha
  mpath_part 1 2048 409600
  mpath_part 2 "$p2start" "$p2size"
  iw_settle
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/mapper/mpatha-part1
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/mpatha-part2
  iw_settle
  mount /dev/mapper/mpatha-part2 "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/mapper/mpatha-part1 "$NEWROOT/boot"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/mpatha-part2 /               ext4    errors=remount-ro 0       1"
    echo "/dev/mapper/mpatha-part1 /boot           ext4    defaults        0       2"
  } > "$NEWROOT/etc/fstab"
  mkdir -p "$NEWROOT/etc/multipath"
  printf 'defaults {\n\tuser_friendly_names yes\n\tfind_multipaths yes\n}\n' > "$NEWROOT/etc/multipath.conf"
  printf '# Multipath wwids, Version : 1.0\n/%s/\n' "$WWID" > "$NEWROOT/etc/multipath/wwids"
}
