#@description: root on /dev/nbd0 (ext4), exported by nbd-server from an image file on the guest's disk and attached with nbd-client over loopback (127.0.0.1)
#@disks: 1200M
#@cmdline: root=/dev/nbd0 nbdroot=127.0.0.1,root rw quiet
#@expect-features:
#@expect-unsupported: nbd
STORE_UUID=0a1b2c3d-0001-4d3e-8f5a-6b7c8d9e0f1a
ROOT_UUID=0a1b2c3d-0002-4d3e-8f5a-6b7c8d9e0f1a

scenario_build() {
  ip link set lo up
  mkfs.ext4 -q -U "$STORE_UUID" -L nbdstore /dev/vda
  mkdir -p /run/nbd-store
  mount /dev/vda /run/nbd-store
  truncate -s 1000M /run/nbd-store/root.img
  mkdir -p /etc/nbd-server
  cat > /etc/nbd-server/config <<CONF
[generic]
    user = root
    group = root
    listenaddr = 127.0.0.1
[root]
    exportname = /run/nbd-store/root.img
CONF
  nbd-server -C /etc/nbd-server/config
  modprobe nbd nbds_max=4
  local i
  for i in $(seq 1 50); do nbd-client -N root 127.0.0.1 /dev/nbd0 && break; sleep 0.2; done
  iw_settle
  mkfs.ext4 -q -U "$ROOT_UUID" /dev/nbd0
  iw_settle
  mount /dev/nbd0 "$NEWROOT"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "/dev/nbd0       /               ext4    _netdev,errors=remount-ro 0       1"
  } > "$NEWROOT/etc/fstab"
  mkdir -p "$NEWROOT/etc/nbd-server"
  cp /etc/nbd-server/config "$NEWROOT/etc/nbd-server/config"
  printf '# device host export options\nnbd0 127.0.0.1 root persist\n' > "$NEWROOT/etc/nbdtab"
}
