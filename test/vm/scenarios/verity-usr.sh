#@description: ext4 / on a plain partition; /usr is a read-only ext4 behind dm-verity (data and hash partitions, veritysetup), opened as "usr"; usrhash= in /etc/kernel/cmdline (the hash is not known before the capture, so it is not on /proc/cmdline)
#@disks: 1G
#@cmdline: root=UUID=8c9d0e1f-0001-4f1a-8b2c-3d4e5f6a7b8c ro quiet
#@expect-features: plain verity
#@expect-unsupported:
ROOT_UUID=8c9d0e1f-0001-4f1a-8b2c-3d4e5f6a7b8c
USR_UUID=8c9d0e1f-0002-4f1a-8b2c-3d4e5f6a7b8c
VERITY_UUID=8c9d0e1f-0003-4f1a-8b2c-3d4e5f6a7b8c
SALT=8c9d0e1f00014f1a8b2c3d4e5f6a7b8c8c9d0e1f00014f1a8b2c3d4e5f6a7b8c
IW_COPY_SKIP="./usr"

scenario_build() {
  iw_gpt /dev/vda 8c9d0e1f-00aa-4f1a-8b2c-3d4e5f6a7b8c <<'P'
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=300MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root-x86-64"
size=384MiB, type=8484680C-9521-48C6-9C11-B0720656F69E, name="usr-x86-64"
type=77FF5F63-E7B6-4633-ACF4-1565B864C0E6, name="usr-x86-64-verity"
P
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/vda2
  mkfs.ext4 -q -b 4096 -U "$USR_UUID" -L usr /dev/vda3
  mkdir -p /mnt/usr
  mount /dev/vda3 /mnt/usr
  cp -a /usr/. /mnt/usr/
  umount /mnt/usr
  modprobe dm_verity
  USRHASH=$(veritysetup format --uuid "$VERITY_UUID" --salt "$SALT" /dev/vda3 /dev/vda4 | awk '/^Root hash:/{print $3}')
  [ -n "$USRHASH" ]
  veritysetup open /dev/vda3 usr /dev/vda4 "$USRHASH"
  iw_settle
  mount /dev/vda2 "$NEWROOT"
  mkdir -p "$NEWROOT/usr"
  mount -o ro /dev/mapper/usr "$NEWROOT/usr"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1"
    echo "/dev/mapper/usr /usr            ext4    ro              0       0"
  } > "$NEWROOT/etc/fstab"
  # merged /usr: the copied / has the bin, sbin, lib symlinks into /usr
  mkdir -p "$NEWROOT/etc/kernel"
  echo "$(iw_scenario_cmdline) usrhash=$USRHASH" > "$NEWROOT/etc/kernel/cmdline"
}
