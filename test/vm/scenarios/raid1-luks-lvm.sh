#@description: two disks: md0 RAID1 ext4 /boot, md1 RAID1 -> LUKS2 -> LVM VG with the root LV
#@disks: 1200M 1200M
#@cmdline: root=/dev/mapper/vg0-root ro quiet
#@expect-features: raid luks lvm
#@expect-unsupported:
BOOT_UUID=8d2e3f4a-0001-4b5c-9d0e-1f2a3b4c5d6e
LUKS_UUID=8d2e3f4a-0002-4b5c-9d0e-1f2a3b4c5d6e
ROOT_UUID=8d2e3f4a-0003-4b5c-9d0e-1f2a3b4c5d6e

scenario_build() {
  local d
  for d in vda vdb; do
    iw_gpt /dev/$d 8d2e3f4a-00$([ $d = vda ] && echo aa || echo bb)-4b5c-9d0e-1f2a3b4c5d6e <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=256MiB, type=A19D880F-05FC-4D3B-A006-743F0F84911E, name="boot"
type=A19D880F-05FC-4D3B-A006-743F0F84911E, name="system"
P
  done
  modprobe -a md_mod raid1
  mdadm --create /dev/md0 --run --quiet --level=1 --raid-devices=2 --metadata=1.2 \
    --homehost=iw-guest --name=boot --uuid=8d2e3f4a:000a4b5c:9d0e1f2a:3b4c5d6e --assume-clean /dev/vda2 /dev/vdb2
  mdadm --create /dev/md1 --run --quiet --level=1 --raid-devices=2 --metadata=1.2 \
    --homehost=iw-guest --name=system --uuid=8d2e3f4a:000b4b5c:9d0e1f2a:3b4c5d6e --assume-clean /dev/vda3 /dev/vdb3
  iw_settle
  mkfs.ext4 -q -U "$BOOT_UUID" /dev/md0
  iw_luks_format /dev/md1 "$LUKS_UUID" md1_crypt
  iw_luks_open /dev/md1 md1_crypt md1_crypt
  pvcreate -q /dev/mapper/md1_crypt
  vgcreate -q vg0 /dev/mapper/md1_crypt
  lvcreate -q -y -l 100%FREE -n root vg0
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/mapper/vg0-root
  iw_settle
  mount /dev/mapper/vg0-root "$NEWROOT"
  mkdir -p "$NEWROOT/boot"
  mount /dev/md0 "$NEWROOT/boot"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/mapper/vg0-root /               ext4    errors=remount-ro 0       1"
    echo "# /boot was on /dev/md0 during installation"
    echo "UUID=$BOOT_UUID /boot           ext4    defaults        0       2"
  } > "$NEWROOT/etc/fstab"
  echo "md1_crypt UUID=$LUKS_UUID none luks" > "$NEWROOT/etc/crypttab"
  iw_write_mdadm_conf
}
