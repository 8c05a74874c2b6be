#!/bin/bash
# Makes test/fixtures/uki/tiny.efi with the real ukify and stub of a trixie
# chroot (test/toolchains/make-chroot.sh trixie): a stand-in kernel and a tiny
# cpio, so the PE reader and the UKI checks are tested on ukify's own layout
# without shipping a real kernel.
set -euo pipefail
ROOT=${1:-/var/tmp/tc-trixie}
OUT=$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/uki
work=$(mktemp -d "$ROOT/tmp/uki-fixture.XXXXXX")
trap 'rm -rf "$work"' EXIT
rel=${work#"$ROOT"}
head -c 4096 /dev/zero > "$work/linux"
(cd "$work" && mkdir -p tree/etc && echo 'ID=fixture' > tree/etc/os-release && cd tree && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible > ../initrd)
chroot "$ROOT" env SOURCE_DATE_EPOCH=0 ukify build --linux "$rel/linux" --initrd "$rel/initrd" \
  --cmdline "root=UUID=0b2c5e4d-0000-4000-8000-000000000001 rw rd.luks.uuid=6f1c0a52-0000-4000-8000-000000000002 quiet" \
  --os-release @/etc/os-release --uname 6.12.0-fixture --output "$rel/tiny.efi"
install -m 644 "$work/tiny.efi" "$OUT/tiny.efi"
