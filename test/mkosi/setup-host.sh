#!/usr/bin/env bash
# Prepares a Debian 12 machine for the build and boot tests (issue: build with
# mkosi-initrd): mkosi >= 24 from bookworm-backports, a modular Debian kernel
# with its vmlinuz where mkosi looks for it, and the tools to make test disks.
# Idempotent; run as root. Recipes: shared/docs/test-machine.md.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# initramfs-tools (for the size comparison) depends on udev, which backports
# upgrades: install both in the same backports transaction.
if ! mkosi --version 2>/dev/null | grep -Eq '^mkosi (2[4-9]|[3-9][0-9])' || ! command -v mkinitramfs >/dev/null; then
  src=/etc/apt/sources.list.d/initrd-wizard-backports.sources
  cat > "$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
  INITRD=No apt-get install -y -qq --no-install-recommends -t bookworm-backports mkosi initramfs-tools udev >/dev/null
  # mkosi-initrd copies the host's apt configuration into the build: with
  # backports enabled the build fails on systemd-cryptsetup having no candidate.
  rm -f "$src"
  apt-get update -qq
fi

# UKIs on Debian 12: backports' systemd 254 ships ukify (it needs python3-pefile); the stub comes from the same
# systemd's systemd-boot-efi in backports.
if [ ! -f /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] || ! dpkg -s python3-pefile >/dev/null 2>&1; then
  src=/etc/apt/sources.list.d/initrd-wizard-backports.sources
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$src"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -t bookworm-backports systemd-boot-efi python3-pefile >/dev/null
  rm -f "$src"
  apt-get update -qq
fi

INITRD=No apt-get install -y -qq --no-install-recommends linux-image-amd64 cpio zstd e2fsprogs cryptsetup-bin lvm2 busybox-static qemu-system-x86 bubblewrap >/dev/null

# mkosi 24.3 filters modules (and runs depmod) only when vmlinuz sits in the modules directory.
for dir in /usr/lib/modules/*/; do
  kver=$(basename "$dir")
  if [ -f "/boot/vmlinuz-$kver" ] && [ ! -e "$dir/vmlinuz" ]; then cp "/boot/vmlinuz-$kver" "$dir/vmlinuz"; fi
done
mkosi --version
