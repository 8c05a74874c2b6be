#!/usr/bin/env bash
# Makes (once) a chroot holding a newer Debian's toolchain: trixie (mkosi 25.3,
# systemd 257, kernel 6.12, dracut 106) or sid (mkosi 27.1, systemd 262,
# dnf5). Recipe: shared/docs/toolchains.md. Idempotent: a finished chroot is
# marked with .initrd-wizard-ready, which holds its package list, and reused
# while that list is this script's; one made from another list is made again.
# Run as root.
#   make-chroot.sh trixie|sid [DIR]
set -euo pipefail
suite=${1:?usage: make-chroot.sh trixie|sid [DIR]}
dir=${2:-/var/tmp/tc-$suite}
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
# What the product needs inside: mkosi and kernel-install, a kernel with
# modules, the tools mkosi-initrd's build uses, apt's own lists, ukify and the
# stub (with systemd-boot) for UKIs, rpmbuild for exported specs; sid adds
# dnf5.
include=mkosi,systemd,udev,kmod,cpio,zstd,linux-image-amd64,bubblewrap,apt,ca-certificates,python3,e2fsprogs,systemd-ukify,systemd-boot-efi,rpm
case $suite in
  trixie) ;;
  sid) include=$include,dnf5,createrepo-c ;;
  *) echo "unknown suite $suite" >&2; exit 2 ;;
esac
[ "$(cat "$dir/.initrd-wizard-ready" 2>/dev/null)" = "$include" ] && { echo "$dir"; exit 0; }
if [ -e "$dir" ]; then
  # Made from another list: made again. A mount left inside stops this rather than being removed through.
  if findmnt -rn -o TARGET | grep -q -e "^$dir\$" -e "^$dir/"; then echo "$dir has mounts: unmount them before it is made again" >&2; exit 1; fi
  rm -rf --one-file-system "$dir"
fi
rm -rf "$dir.partial"
# INITRD=No: no initramfs-tools run while the kernel is unpacked.
INITRD=No mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
  --include="$include" --skip=cleanup/apt/lists \
  "$suite" "$dir.partial" "deb $mirror $suite main" >&2
# A real system has a firmware directory (mkosi-initrd copies it in and stops without it).
mkdir -p "$dir.partial/usr/lib/firmware"
echo "$include" > "$dir.partial/.initrd-wizard-ready"
mv "$dir.partial" "$dir"
echo "$dir"
