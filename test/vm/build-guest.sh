#!/bin/bash
# One-time guest build for the capture harness (see test/vm/README.md).
#
#   bash test/vm/build-guest.sh [--force]
#   IW_GUEST_SUITE=trixie bash test/vm/build-guest.sh [--force]
#
# Produces, under test/vm/work/ (gitignored), for the default suite (bookworm):
#   guest/vmlinuz      the Debian 12 kernel (apt-get download linux-image-<kver>, extracted, not installed)
#   guest/base.cpio    an uncompressed newc cpio: a Debian 12 minbase userland with the storage tools and
#                      the kernel modules the scenarios need (dependencies resolved with modprobe -d/-S)
#   guest/kver         the kernel version
#   guest/stamp        a hash of this script; the build is redone when the script changes or with --force
# and for IW_GUEST_SUITE=trixie the same in guest-trixie/: a Debian 13 userland and trixie's kernel (6.12),
# both from a private apt configuration for that suite (the host's apt is not changed).
#
# It needs root (mmdebstrap, device nodes in the cpio) and the host packages in host-packages.txt.
# The Debian mirror is the one the host's apt is configured with (for bookworm mmdebstrap without a
# mirror argument reads the host's sources; for another suite the first URIs: line of the host's
# debian.sources is used), so no mirror name is written here.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${IW_VM_WORK:-$HERE/work}
SUITE=${IW_GUEST_SUITE:-bookworm}
case "$SUITE" in
  bookworm) OUT=$WORK/guest; ROOT=$WORK/rootfs ;;
  trixie) OUT=$WORK/guest-$SUITE; ROOT=$WORK/rootfs-$SUITE ;;
  *) echo "build-guest.sh: IW_GUEST_SUITE must be bookworm or trixie, not '$SUITE'" >&2; exit 2 ;;
esac
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
  dm_mod dm_crypt dm_snapshot dm_mirror dm_raid dm_thin_pool dm_multipath dm_round_robin dm_integrity dm_verity dm_zero
  md_mod raid0 raid1 raid10 raid456 linear
  ext4 xfs btrfs vfat nls_ascii nls_cp437 nls_utf8 nls_iso8859_1
  loop nbd bcache
  configfs target_core_mod target_core_file iscsi_target_mod iscsi_tcp sd_mod
  aesni_intel aes_generic xts cbc ecb essiv sha256_generic sha512_generic crc32c_generic crc32c_intel
  xxhash_generic blake2b_generic algif_skcipher algif_hash af_alg authenc hmac sha256 sha512
)

if [ "$(id -u)" != 0 ]; then echo "build-guest.sh: must run as root" >&2; exit 2; fi
for tool in mmdebstrap cpio depmod modprobe apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-guest.sh: $tool missing; apt-get install the packages in $HERE/host-packages.txt" >&2; exit 2; }
done

STAMP=$(sha256sum "$HERE/build-guest.sh" | cut -c1-16)
[ "$SUITE" = bookworm ] || STAMP=$STAMP-$SUITE
if [ $FORCE = 0 ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$STAMP" ] \
   && [ -f "$OUT/base.cpio" ] && [ -f "$OUT/vmlinuz" ]; then
  echo "build-guest.sh: guest is up to date ($OUT)"
  exit 0
fi

start=$(date +%s)
mkdir -p "$WORK"
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"

# apt for the suite: the host's own for bookworm; for another suite a private configuration under
# $WORK/apt-$SUITE (its own sources, lists and cache; the Release files served here can be past their
# Valid-Until date, hence Check-Valid-Until=false).
APT=(apt-get)
APTCACHE=(apt-cache)
MMOPTS=()
MMARGS=(bookworm "$ROOT")
if [ "$SUITE" != bookworm ]; then
  MIRROR=${IW_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)}
  [ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  [ -n "$MIRROR" ] || { echo "build-guest.sh: cannot find the host's Debian mirror (set IW_MIRROR)" >&2; exit 2; }
  APTD=$WORK/apt-$SUITE
  mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial"
  echo "deb $MIRROR $SUITE main" > "$APTD/sources.list"
  aptopts=(-o "Dir::Etc::sourcelist=$APTD/sources.list" -o Dir::Etc::sourceparts=/dev/null
           -o "Dir::State::lists=$APTD/lists" -o "Dir::Cache=$APTD/cache" -o Dir::State::status=/dev/null
           -o Acquire::Check-Valid-Until=false)
  APT=(apt-get "${aptopts[@]}")
  APTCACHE=(apt-cache "${aptopts[@]}")
  "${APT[@]}" -q update >/dev/null
  MMOPTS=(--aptopt='Acquire::Check-Valid-Until "false"')
  MMARGS=("$SUITE" "$ROOT" "deb $MIRROR $SUITE main")
fi

# 1. The kernel: the version linux-image-amd64 currently points to, downloaded and extracted.
if [ -n "${IW_KERNEL_PACKAGE:-}" ]; then
  KPKG=$IW_KERNEL_PACKAGE
else
  KPKG=$("${APTCACHE[@]}" depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
fi
if [ -z "$KPKG" ]; then
  echo "build-guest.sh: cannot find the kernel package behind linux-image-amd64 (run apt-get update)" >&2
  exit 1
fi
KVER=${KPKG#linux-image-}
echo "build-guest.sh: kernel $KVER"
mkdir -p "$WORK/kernel"
if ! ls "$WORK/kernel/${KPKG}_"*.deb >/dev/null 2>&1; then
  (cd "$WORK/kernel" && "${APT[@]}" download "$KPKG" 2>&1 | grep -v 'unsandboxed' || true)
fi
DEB=$(ls "$WORK/kernel/${KPKG}_"*.deb | head -n1)
KROOT=$WORK/kernel/root-$KVER
if [ ! -f "$KROOT/lib/modules/$KVER/modules.dep" ]; then
  rm -rf "$KROOT"
  dpkg-deb -x "$DEB" "$KROOT"
  # Newer kernel packages ship their modules in /usr/lib/modules only.
  [ -e "$KROOT/lib" ] || ln -s usr/lib "$KROOT/lib"
  depmod -b "$KROOT" "$KVER"
fi
cp "$KROOT/boot/vmlinuz-$KVER" "$OUT.tmp/vmlinuz"
echo "$KVER" > "$OUT.tmp/kver"

# Anything mmdebstrap left mounted in the root (it warns "umount /sys failed" when the host is busy):
# unmount it, deepest first, before the tree is removed or packed.
unmount_under() {
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$1/" | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done
}

# 2. The userland: Debian minbase of the suite plus the storage tools, without docs, man pages and locales.
unmount_under "$ROOT"
rm -rf "$ROOT"
include=$(IFS=,; echo "${PACKAGES[*]}")
mmdebstrap --variant=minbase --include="$include" \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  "${MMOPTS[@]}" "${MMARGS[@]}"
unmount_under "$ROOT"
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
echo "build-guest.sh: $(find "$MDIR" -name '*.ko' -o -name '*.ko.[xg]z' -o -name '*.ko.zst' | wc -l) modules"

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
echo "build-guest.sh: done in $(( $(date +%s) - start ))s: $(du -h "$OUT/base.cpio" | cut -f1) base.cpio, $SUITE, kernel $KVER"
