#@description: md RAID1 (metadata 1.2) over a partition on each of two disks, ext4 root directly on /dev/md0; mdadm.conf with the ARRAY line
#@disks: 1G 1G
#@cmdline: root=UUID=7c1d2e3f-0001-4a5b-8c9d-0e1f2a3b4c5d ro quiet
#@expect-features: raid
#@expect-unsupported:
#@suites: bookworm trixie
ROOT_UUID=7c1d2e3f-0001-4a5b-8c9d-0e1f2a3b4c5d
MD_UUID=7c1d2e3f:00024a5b:8c9d0e1f:2a3b4c5d

scenario_build() {
  local d
  for d in vda vdb; do
    iw_gpt /dev/$d 7c1d2e3f-00$([ $d = vda ] && echo aa || echo bb)-4a5b-8c9d-0e1f2a3b4c5d <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
type=A19D880F-05FC-4D3B-A006-743F0F84911E, name="raid"
P
  done
  modprobe -a md_mod raid1
  mdadm --create /dev/md0 --run --quiet --level=1 --raid-devices=2 --metadata=1.2 \
    --homehost=iw-guest --name=0 --uuid="$MD_UUID" --assume-clean /dev/vda2 /dev/vdb2
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/md0
  iw_settle
  mount /dev/md0 "$NEWROOT"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "# / was on /dev/md0 during installation"
    echo "UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1"
  } > "$NEWROOT/etc/fstab"
  iw_write_mdadm_conf
}
