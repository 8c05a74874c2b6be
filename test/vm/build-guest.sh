#!/bin/bash
# One-time guest build for the capture harness (see test/vm/README.md).
#
#   bash test/vm/build-guest.sh [--force]
#
# Produces, under test/vm/work/ (gitignored):
#   guest/vmlinuz      the Debian 12 kernel (apt-get download linux-image-<kver>, extracted, not installed)
#   guest/base.cpio    an uncompressed newc cpio: a Debian 12 minbase userland with the storage tools and
#                      the kernel modules the scenarios need (dependencies resolved with modprobe -d/-S)
#   guest/kver         the kernel version
#   guest/stamp        a hash of this script; the build is redone when the script changes or with --force
#
# It needs root (mmdebstrap, device nodes in the cpio) and the host packages in host-packages.txt.
# The Debian mirror is the one the host's apt is configured with (mmdebstrap without a mirror argument
# reads the host's sources), so no mirror name is written here.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${IW_VM_WORK:-$HERE/work}
OUT=$WORK/guest
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

# Userland packages (on top of minbase). Recommends are not installed.
PACKAGES=(
  util-linux fdisk mount kmod udev systemd
  e2fsprogs xfsprogs dosfstools btrfs-progs
  cryptsetup-bin dmsetup lvm2 thin-provisioning-tools mdadm
  nbd-client nbd-server iproute2 bcache-tools open-iscsi
  libstdc++6
)

# Kernel modules loaded by the scenarios (plus everything they depend on).
MODULES=(
  virtio_pci virtio_blk
  dm_mod dm_crypt dm_snapshot dm_mirror dm_thin_pool dm_multipath dm_round_robin dm_integrity dm_verity dm_zero
  md_mod raid0 raid1 raid10 raid456 linear
  ext4 xfs btrfs vfat nls_ascii nls_cp437 nls_utf8 nls_iso8859_1
  loop nbd bcache
  configfs target_core_mod target_core_file iscsi_target_mod iscsi_tcp sd_mod
  aesni_intel aes_generic xts cbc ecb essiv sha256_generic sha512_generic crc32c_generic crc32c_intel
  xxhash_generic blake2b_generic algif_skcipher algif_hash af_alg
)

if [ "$(id -u)" != 0 ]; then echo "build-guest.sh: must run as root" >&2; exit 2; fi
for tool in mmdebstrap cpio depmod modprobe apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-guest.sh: $tool missing; apt-get install the packages in $HERE/host-packages.txt" >&2; exit 2; }
done

STAMP=$(sha256sum "$HERE/build-guest.sh" | cut -c1-16)
if [ $FORCE = 0 ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$STAMP" ] \
   && [ -f "$OUT/base.cpio" ] && [ -f "$OUT/vmlinuz" ]; then
  echo "build-guest.sh: guest is up to date ($OUT)"
  exit 0
fi

start=$(date +%s)
mkdir -p "$WORK"
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"

# 1. The kernel: the version linux-image-amd64 currently points to, downloaded and extracted.
if [ -n "${IW_KERNEL_PACKAGE:-}" ]; then
  KPKG=$IW_KERNEL_PACKAGE
else
  KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
fi
if [ -z "$KPKG" ]; then
  echo "build-guest.sh: cannot find the kernel package behind linux-image-amd64 (run apt-get update)" >&2
  exit 1
fi
KVER=${KPKG#linux-image-}
echo "build-guest.sh: kernel $KVER"
mkdir -p "$WORK/kernel"
if ! ls "$WORK/kernel/${KPKG}_"*.deb >/dev/null 2>&1; then
  (cd "$WORK/kernel" && apt-get download "$KPKG" 2>&1 | grep -v 'unsandboxed' || true)
fi
DEB=$(ls "$WORK/kernel/${KPKG}_"*.deb | head -n1)
KROOT=$WORK/kernel/root-$KVER
if [ ! -f "$KROOT/lib/modules/$KVER/modules.dep" ]; then
  rm -rf "$KROOT"
  dpkg-deb -x "$DEB" "$KROOT"
  depmod -b "$KROOT" "$KVER"
fi
cp "$KROOT/boot/vmlinuz-$KVER" "$OUT.tmp/vmlinuz"
echo "$KVER" > "$OUT.tmp/kver"

# 2. The userland: Debian 12 minbase plus the storage tools, without docs, man pages and locales.
ROOT=$WORK/rootfs
rm -rf "$ROOT"
include=$(IFS=,; echo "${PACKAGES[*]}")
mmdebstrap --variant=minbase --include="$include" \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  bookworm "$ROOT"
rm -rf "$ROOT/var/cache/apt/"*.bin "$ROOT/var/lib/apt/lists/"* "$ROOT/var/log/"*.log
# Trim what nothing in the guest runs (python3 and ICU are there for xfs_scrub, perl for debconf and
# adduser; the hwdb for input devices): a smaller initramfs boots and copies faster under TCG.
rm -rf "$ROOT"/usr/lib/python3* "$ROOT"/usr/bin/python3* "$ROOT"/usr/share/perl "$ROOT"/usr/lib/x86_64-linux-gnu/perl \
       "$ROOT"/usr/bin/perl "$ROOT"/usr/bin/perl5* "$ROOT"/usr/lib/x86_64-linux-gnu/gconv \
       "$ROOT"/usr/lib/x86_64-linux-gnu/libicu* "$ROOT"/usr/lib/udev/hwdb.bin "$ROOT"/usr/lib/udev/hwdb.d \
       "$ROOT"/usr/share/bash-completion "$ROOT"/usr/share/common-licenses

# 3. The modules, with their dependencies.
mods=$( for m in "${MODULES[@]}"; do
          modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null || echo "MISSING $m"
        done | awk '$1=="insmod"{print $2} $1=="MISSING"{print "MISSING " $2}' | sort -u )
if echo "$mods" | grep -q '^MISSING'; then
  echo "$mods" | grep '^MISSING' | sed 's/^/build-guest.sh: module not found: /' >&2
fi
MDIR=$ROOT/usr/lib/modules/$KVER
mkdir -p "$MDIR"
echo "$mods" | grep -v '^MISSING' | while read -r ko; do
  rel=${ko#"$KROOT"/lib/modules/"$KVER"/}
  mkdir -p "$MDIR/$(dirname "$rel")"
  cp "$ko" "$MDIR/$rel"
done
cp "$KROOT/lib/modules/$KVER/modules.order" "$KROOT/lib/modules/$KVER/modules.builtin" \
   "$KROOT/lib/modules/$KVER/modules.builtin.modinfo" "$MDIR/"
depmod -b "$ROOT" "$KVER"
echo "build-guest.sh: $(find "$MDIR" -name '*.ko' | wc -l) modules"

# 4. Small fixes for a guest booted from an initramfs.
echo "iw-guest" > "$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tiw-guest\n' > "$ROOT/etc/hosts"
: > "$ROOT/etc/machine-id"
systemd-machine-id-setup --root="$ROOT" >/dev/null 2>&1 || true
rm -f "$ROOT/init"

# 5. Pack as an uncompressed newc cpio (the kernel unpacks it fastest that way).
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner=0:0 > "$OUT.tmp/base.cpio")
echo "$STAMP" > "$OUT.tmp/stamp"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
echo "build-guest.sh: done in $(( $(date +%s) - start ))s: $(du -h "$OUT/base.cpio" | cut -f1) base.cpio, kernel $KVER"
