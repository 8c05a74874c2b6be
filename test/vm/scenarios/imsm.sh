#@description: Intel Matrix (IMSM) firmware RAID made by mdadm without the platform (IMSM_NO_PLATFORM=1): a container over two whole disks and a RAID1 volume in it, partitioned, ext4 root on the volume's partition; mdadm.conf with CONTAINER and ARRAY lines
#@disks: 1G 1G
#@cmdline: root=UUID=9d0e1f2a-0001-4a2b-9c3d-4e5f6a7b8c9d ro quiet
#@expect-features: raid
#@expect-unsupported:
ROOT_UUID=9d0e1f2a-0001-4a2b-9c3d-4e5f6a7b8c9d
export IMSM_NO_PLATFORM=1 IMSM_DEVNAME_AS_SERIAL=1

scenario_build() {
  modprobe -a md_mod raid1
  mdadm --create /dev/md/imsm0 --run --quiet --metadata=imsm --raid-devices=2 /dev/vda /dev/vdb
  mdadm --create /dev/md/Volume0 --run --quiet --level=1 --raid-devices=2 --size=800M --assume-clean /dev/md/imsm0
  iw_settle
  local vol; vol=$(readlink -f /dev/md/Volume0)
  { echo "label: gpt"; echo "label-id: 9d0e1f2a-00aa-4a2b-9c3d-4e5f6a7b8c9d"
    echo "type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root"
  } | sfdisk --quiet "$vol"
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" "${vol}p1"
  iw_settle
  mount "${vol}p1" "$NEWROOT"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1"
  } > "$NEWROOT/etc/fstab"
  iw_write_mdadm_conf
}
