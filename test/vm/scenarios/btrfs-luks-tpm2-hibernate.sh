#@description: Laptop: ESP (/efi) + LUKS2 root (keyslot 1 bound to a systemd-tpm2 token) -> btrfs subvolumes @ (root) and @home + a second LUKS2 partition (also with a tpm2 token) holding the swap used for hibernation (resume=UUID=); crypttab tpm2-device=auto for both
#@disks: 1600M
#@cmdline: rd.luks.uuid=c4a7e2f1-0001-4d6b-8e9f-a1b2c3d4e5f6 rd.luks.uuid=c4a7e2f1-0003-4d6b-8e9f-a1b2c3d4e5f6 rd.luks.options=c4a7e2f1-0001-4d6b-8e9f-a1b2c3d4e5f6=tpm2-device=auto rd.luks.options=c4a7e2f1-0003-4d6b-8e9f-a1b2c3d4e5f6=tpm2-device=auto root=UUID=c4a7e2f1-0002-4d6b-8e9f-a1b2c3d4e5f6 rootflags=subvol=@ resume=UUID=c4a7e2f1-0004-4d6b-8e9f-a1b2c3d4e5f6 rw quiet
#@expect-features: luks btrfs tpm2 hibernate
#@expect-unsupported:
LUKS_UUID=c4a7e2f1-0001-4d6b-8e9f-a1b2c3d4e5f6
BTRFS_UUID=c4a7e2f1-0002-4d6b-8e9f-a1b2c3d4e5f6
SWAP_LUKS_UUID=c4a7e2f1-0003-4d6b-8e9f-a1b2c3d4e5f6
SWAP_UUID=c4a7e2f1-0004-4d6b-8e9f-a1b2c3d4e5f6
ESP_ID=C4A7-E2F1
NAME=luks-$LUKS_UUID
SWAP_NAME=luks-$SWAP_LUKS_UUID

# iw_tpm2_luks DEV UUID KEYNAME: LUKS2 with keyslot 1 bound to a systemd-tpm2 token (as
# systemd-cryptenroll --tpm2-device=auto would leave it; the token is imported).
iw_tpm2_luks() {
  local dev=$1 uuid=$2 key=$3; shift 3
  iw_luks_format "$dev" "$uuid" "$key" "$@"
  iw_luks_add_key "$dev" "$key" "$key-tpm2"
  iw_token_tpm2 1 > "/run/iw/token-$key-tpm2.json"
  cryptsetup token import --token-id 0 --json-file "/run/iw/token-$key-tpm2.json" "$dev"
}

scenario_build() {
  # Discoverable partition types: ESP, x86-64 root, swap (both LUKS-encrypted, as the spec allows).
  iw_gpt /dev/vda c4a7e2f1-00aa-4d6b-8e9f-a1b2c3d4e5f6 <<'P'
size=128MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
size=1100MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap"
P
  mkfs.vfat -F 32 -i "${ESP_ID/-/}" /dev/vda1 >/dev/null
  iw_tpm2_luks /dev/vda2 "$LUKS_UUID" root --label root
  iw_tpm2_luks /dev/vda3 "$SWAP_LUKS_UUID" swap --label swap
  iw_luks_open /dev/vda2 "$NAME" root --allow-discards
  iw_luks_open /dev/vda3 "$SWAP_NAME" swap --allow-discards
  modprobe btrfs
  mkfs.btrfs -q -U "$BTRFS_UUID" -L root "/dev/mapper/$NAME"
  mkswap -U "$SWAP_UUID" -L swap "/dev/mapper/$SWAP_NAME"
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
  swapon "/dev/mapper/$SWAP_NAME"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$BTRFS_UUID /      btrfs subvol=@,compress=zstd:1,discard=async     0 0"
    echo "UUID=$BTRFS_UUID /home  btrfs subvol=@home,compress=zstd:1,discard=async 0 0"
    echo "UUID=$ESP_ID                            /efi   vfat  umask=0077                          0 2"
    echo "UUID=$SWAP_UUID none   swap  defaults                            0 0"
  } > "$NEWROOT/etc/fstab"
  {
    echo "$NAME UUID=$LUKS_UUID none tpm2-device=auto,discard"
    echo "$SWAP_NAME UUID=$SWAP_LUKS_UUID none tpm2-device=auto,discard"
  } > "$NEWROOT/etc/crypttab"
  iw_write_kernel_cmdline
  printf 'layout=bls\n' > "$NEWROOT/etc/kernel/install.conf"
  iw_set_resume "/dev/mapper/$SWAP_NAME"
}
