#!/usr/bin/env bash
# Makes (once) a chroot holding a newer Debian's toolchain: trixie (mkosi 25.3,
# systemd 257, kernel 6.12, dracut 106) or sid (mkosi 27.1, systemd 262,
# dnf5). Recipe: shared/docs/toolchains.md. Idempotent: a finished chroot is
# marked with .initrd-wizard-ready and reused. Run as root.
#   make-chroot.sh trixie|sid [DIR]
set -euo pipefail
suite=${1:?usage: make-chroot.sh trixie|sid [DIR]}
dir=${2:-/var/tmp/tc-$suite}
[ -f "$dir/.initrd-wizard-ready" ] && { echo "$dir"; exit 0; }
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
# What the product needs inside: mkosi and kernel-install, a kernel with
# modules, the tools mkosi-initrd's build uses, apt's own lists, ukify and the
# stub (with systemd-boot) for UKIs; sid adds dnf5.
include=mkosi,systemd,udev,kmod,cpio,zstd,linux-image-amd64,bubblewrap,apt,ca-certificates,python3,e2fsprogs
case $suite in
  trixie) include=$include,systemd-ukify,systemd-boot-efi ;;
  sid) include=$include,systemd-ukify,systemd-boot-efi,dnf5,rpm,createrepo-c ;;
  *) echo "unknown suite $suite" >&2; exit 2 ;;
esac
rm -rf "$dir.partial"
# INITRD=No: no initramfs-tools run while the kernel is unpacked.
INITRD=No mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
  --include="$include" --skip=cleanup/apt/lists \
  "$suite" "$dir.partial" "deb $mirror $suite main" >&2
# A real system has a firmware directory (mkosi-initrd copies it in and stops without it).
mkdir -p "$dir.partial/usr/lib/firmware"
touch "$dir.partial/.initrd-wizard-ready"
mv "$dir.partial" "$dir"
echo "$dir"
