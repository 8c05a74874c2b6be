#@description: md RAID5 (metadata 1.2, 3 members, one partition per disk) with an xfs root; mdadm.conf with the ARRAY line
#@disks: 700M 700M 700M
#@cmdline: root=UUID=3d4e5f6a-0001-4a6b-9c8d-9e0f1a2b3c4d ro quiet
#@expect-features: raid
#@expect-unsupported:
ROOT_UUID=3d4e5f6a-0001-4a6b-9c8d-9e0f1a2b3c4d
MD_UUID=3d4e5f6a:00024a6b:9c8d9e0f:1a2b3c4d

scenario_build() {
  local d n=0
  for d in vda vdb vdc; do
    n=$((n + 1))
    iw_gpt /dev/$d 3d4e5f6a-00a$n-4a6b-9c8d-9e0f1a2b3c4d <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
type=A19D880F-05FC-4D3B-A006-743F0F84911E, name="raid"
P
  done
  modprobe -a md_mod raid456
  mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=3 --metadata=1.2 --chunk=512 \
    --homehost=iw-guest --name=root --uuid="$MD_UUID" --assume-clean /dev/vda2 /dev/vdb2 /dev/vdc2
  iw_settle
  modprobe xfs
  mkfs.xfs -q -f -m uuid="$ROOT_UUID" -L root /dev/md0
  iw_settle
  mount /dev/md0 "$NEWROOT"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$ROOT_UUID /               xfs     defaults        0       0"
  } > "$NEWROOT/etc/fstab"
  iw_write_mdadm_conf
}
