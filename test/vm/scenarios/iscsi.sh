#@description: root on an iSCSI LUN: the kernel's LIO target (configured through configfs, fileio backstore on the guest's disk) exports it on 127.0.0.1:3260, open-iscsi (iscsid, iscsiadm) logs in; GPT on the LUN (/dev/sda), ext4 root on sda1
#@disks: 1200M
#@cmdline: root=UUID=ae1f2a3b-0001-4b3c-8d4e-5f6a7b8c9d0e ro netroot=iscsi:127.0.0.1::3260::iqn.2024-01.org.example.iw:root rd.iscsi.initiator=iqn.1993-08.org.debian:01:iwguest quiet
#@expect-features:
#@expect-unsupported: iscsi
ROOT_UUID=ae1f2a3b-0001-4b3c-8d4e-5f6a7b8c9d0e
STORE_UUID=ae1f2a3b-0002-4b3c-8d4e-5f6a7b8c9d0e
IQN=iqn.2024-01.org.example.iw:root
INITIATOR=iqn.1993-08.org.debian:01:iwguest

scenario_build() {
  ip link set lo up
  mkfs.ext4 -q -U "$STORE_UUID" -L iscsistore /dev/vda
  mkdir -p /run/iscsi-store
  mount /dev/vda /run/iscsi-store
  truncate -s 1000M /run/iscsi-store/lun0.img

  # The target: LIO through configfs, as targetcli would set it up.
  modprobe -a configfs target_core_mod target_core_file iscsi_target_mod
  mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
  local C=/sys/kernel/config/target
  mkdir -p "$C/core/fileio_0/lun0"
  echo "fd_dev_name=/run/iscsi-store/lun0.img,fd_dev_size=$((1000 * 1024 * 1024))" > "$C/core/fileio_0/lun0/control"
  echo 1 > "$C/core/fileio_0/lun0/enable"
  local T=$C/iscsi/$IQN/tpgt_1
  mkdir -p "$T/lun/lun_0" "$T/np/127.0.0.1:3260"
  ln -s "$C/core/fileio_0/lun0" "$T/lun/lun_0/iw_lun0"
  echo 0 > "$T/attrib/authentication"
  echo 1 > "$T/attrib/generate_node_acls"
  echo 1 > "$T/attrib/cache_dynamic_acls"
  echo 0 > "$T/attrib/demo_mode_write_protect"
  echo 1 > "$T/enable"

  # The initiator: open-iscsi.
  modprobe -a iscsi_tcp sd_mod
  echo "InitiatorName=$INITIATOR" > /etc/iscsi/initiatorname.iscsi
  mkdir -p /run/lock/iscsi
  iscsid
  local i
  for i in $(seq 1 50); do iscsiadm -m discovery -t sendtargets -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.2; done
  iscsiadm -m node -T "$IQN" -p 127.0.0.1 -o update -n node.startup -v automatic
  iscsiadm -m node -T "$IQN" -p 127.0.0.1 --login
  iw_settle
  local disk=/dev/disk/by-path/ip-127.0.0.1:3260-iscsi-$IQN-lun-0
  for i in $(seq 1 50); do [ -b "$disk" ] && break; sleep 0.2; iw_settle; done
  disk=$(readlink -f "$disk")
  iw_gpt "$disk" ae1f2a3b-00aa-4b3c-8d4e-5f6a7b8c9d0e <<'P'
type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
P
  mkfs.ext4 -q -U "$ROOT_UUID" "${disk}1"
  iw_settle
  mount "${disk}1" "$NEWROOT"
}

scenario_configure() {
  {
    iw_fstab_header
    echo "UUID=$ROOT_UUID /               ext4    _netdev,errors=remount-ro 0       1"
  } > "$NEWROOT/etc/fstab"
}
