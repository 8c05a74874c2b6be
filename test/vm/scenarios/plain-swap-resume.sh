#@description: GPT disk: vfat ESP, ext4 root on a plain partition, swap partition; resume= on the kernel command line
#@disks: 1G
#@cmdline: root=UUID=6a1f2c3e-0001-4b5c-9d6e-7f8091a2b3c4 ro resume=UUID=6a1f2c3e-0002-4b5c-9d6e-7f8091a2b3c4 quiet
#@expect-features: plain hibernate
#@expect-unsupported:
ROOT_UUID=6a1f2c3e-0001-4b5c-9d6e-7f8091a2b3c4
SWAP_UUID=6a1f2c3e-0002-4b5c-9d6e-7f8091a2b3c4
ESP_ID=1A2B-3C4D

scenario_build() {
  iw_gpt /dev/vda 0d5f6a7b-1111-4c2d-8e9f-a0b1c2d3e4f5 <<'P'
size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=0d5f6a7b-0001-4c2d-8e9f-a0b1c2d3e4f5, name="EFI System Partition"
size=768MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=0d5f6a7b-0002-4c2d-8e9f-a0b1c2d3e4f5, name="root"
type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=0d5f6a7b-0003-4c2d-8e9f-a0b1c2d3e4f5, name="swap"
P
  mkfs.vfat -F 32 -i "${ESP_ID/-/}" -n ESP /dev/vda1 >/dev/null 2>&1 || mkfs.vfat -i "${ESP_ID/-/}" -n ESP /dev/vda1
  mkfs.ext4 -q -U "$ROOT_UUID" -L root /dev/vda2
  mkswap -U "$SWAP_UUID" -L swap /dev/vda3
  iw_settle
  mount /dev/vda2 "$NEWROOT"
  mkdir -p "$NEWROOT/boot/efi"
  modprobe -a vfat nls_cp437 nls_ascii
  mount /dev/vda1 "$NEWROOT/boot/efi"
  swapon /dev/vda3
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1"
    echo "UUID=$ESP_ID  /boot/efi       vfat    umask=0077      0       1"
    echo "UUID=$SWAP_UUID none            swap    sw              0       0"
  } > "$NEWROOT/etc/fstab"
  iw_write_kernel_cmdline
  iw_set_resume /dev/vda3
}
