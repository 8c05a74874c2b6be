#@description: ESP + LUKS2 (keyslot 1 bound to a systemd-tpm2 token, imported with cryptsetup token import) -> btrfs with subvolumes @ (root) and @home; crypttab tpm2-device=auto
#@disks: 1200M
#@cmdline: rd.luks.uuid=b05b6c7d-0001-4e8f-9a0b-1c2d3e4f5a6b rd.luks.options=b05b6c7d-0001-4e8f-9a0b-1c2d3e4f5a6b=tpm2-device=auto root=UUID=b05b6c7d-0002-4e8f-9a0b-1c2d3e4f5a6b rootflags=subvol=@ rw quiet
#@expect-features: luks btrfs tpm2
#@expect-unsupported:
LUKS_UUID=b05b6c7d-0001-4e8f-9a0b-1c2d3e4f5a6b
BTRFS_UUID=b05b6c7d-0002-4e8f-9a0b-1c2d3e4f5a6b
ESP_ID=B05B-6C7D
NAME=luks-$LUKS_UUID

scenario_build() {
  iw_gpt /dev/vda b05b6c7d-00aa-4e8f-9a0b-1c2d3e4f5a6b <<'P'
size=128MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
P
  mkfs.vfat -F 32 -i "${ESP_ID/-/}" /dev/vda1 >/dev/null
  iw_luks_format /dev/vda2 "$LUKS_UUID" root --label root
  # Keyslot 1 is the one systemd-cryptenroll --tpm2-device=auto would add; its token is imported.
  iw_luks_add_key /dev/vda2 root tpm2
  iw_token_tpm2 1 > /run/iw/token-tpm2.json
  cryptsetup token import --token-id 0 --json-file /run/iw/token-tpm2.json /dev/vda2
  iw_luks_open /dev/vda2 "$NAME" root --allow-discards
  modprobe btrfs
  mkfs.btrfs -q -U "$BTRFS_UUID" -L root "/dev/mapper/$NAME"
  iw_settle
  mount "/dev/mapper/$NAME" /mnt
  btrfs -q subvolume create /mnt/@
  btrfs -q subvolume create /mnt/@home
  umount /mnt
  mount -o subvol=@,compress=zstd:1,discard=async "/dev/mapper/$NAME" "$NEWROOT"
  mkdir -p "$NEWROOT/home" "$NEWROOT/efi"
  mount -o subvol=@home,compress=zstd:1,discard=async "/dev/mapper/$NAME" "$NEWROOT/home"
  modprobe -a vfat nls_cp437 nls_ascii
  mount -o umask=0077 /dev/vda1 "$NEWROOT/efi"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$BTRFS_UUID /      btrfs subvol=@,compress=zstd:1,discard=async     0 0"
    echo "UUID=$BTRFS_UUID /home  btrfs subvol=@home,compress=zstd:1,discard=async 0 0"
    echo "UUID=$ESP_ID                            /efi   vfat  umask=0077                          0 2"
  } > "$NEWROOT/etc/fstab"
  echo "$NAME UUID=$LUKS_UUID none tpm2-device=auto,discard" > "$NEWROOT/etc/crypttab"
  iw_write_kernel_cmdline
  printf 'layout=bls\n' > "$NEWROOT/etc/kernel/install.conf"
}
