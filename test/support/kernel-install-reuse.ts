/**
 * Does kernel-install take a prebuilt initrd from /usr/lib/modules/KVER/?
 * One script, run the same way on this machine (systemd 254, initrd-wizard's
 * plugin for mkosi 24.3) and in the trixie and sid chroots (257 and 262,
 * mkosi's own 50-mkosi.install): inside a private mount namespace, a tmpfs
 * over /usr/lib/modules holds a made-up kernel KVER with the prebuilt initrd
 * beside its image, so nothing any other process sees changes. mkosi-initrd
 * is a stand-in that writes "built-by-mkosi-initrd", so whether the plugin
 * built or skipped shows in the entry.
 *
 *   not-passed:  kernel-install add KVER /usr/lib/modules/KVER/vmlinuz
 *   passed:      kernel-install add KVER /usr/lib/modules/KVER/vmlinuz /usr/lib/modules/KVER/initrd
 *   dracut:      as not-passed, with initrd_generator=dracut (where dracut's plugin is installed)
 *
 * Each case prints "case NAME: SHA256 OF THE ENTRY'S INITRD" and the entry's
 * initrd lines; the caller compares with the prebuilt file's hash.
 */
import { createHash } from 'node:crypto';

export const FAKE_KVER = '6.1.0-99-initrd-wizard-test';
export const STUB_OUTPUT = 'built-by-mkosi-initrd\n';

/**
 * The script; $1 is a work directory holding \`prebuilt\` (the initrd to reuse), $2 the mkosi-initrd output to
 * mimic: 24 (initrd.cpio.zst and an initrd link, which initrd-wizard's plugin for 24.3 takes) or 25 (a file
 * named initrd, which 50-mkosi.install leaves in the staging area). KERNEL_INSTALL_PLUGINS may be set.
 */
export const REUSE_SCRIPT = `set -eu
w=$1
style=$2
k=${FAKE_KVER}
mount -t tmpfs initrd-wizard-test /usr/lib/modules
mkdir -p /usr/lib/modules/$k "$w/conf" "$w/stub"
echo "not a real kernel image" > /usr/lib/modules/$k/vmlinuz
cp "$w/prebuilt" /usr/lib/modules/$k/initrd
cat > "$w/stub/mkosi-initrd" <<STUB
#!/bin/sh
while [ \\$# -gt 0 ]; do case "\\$1" in -O|--output-dir) out=\\$2; shift;; esac; shift; done
if [ $style = 24 ]; then
  echo built-by-mkosi-initrd > "\\$out/initrd.cpio.zst"; ln -s initrd.cpio.zst "\\$out/initrd"
else
  echo built-by-mkosi-initrd > "\\$out/initrd"
fi
STUB
chmod 0755 "$w/stub/mkosi-initrd"
export PATH="$w/stub:$PATH" KERNEL_INSTALL_CONF_ROOT="$w/conf" MACHINE_ID=0123456789abcdef0123456789abcdef
run() {
  name=$1; generator=$2; shift 2
  rm -rf "$w/boot"; mkdir -p "$w/boot"
  printf 'layout=bls\\ninitrd_generator=%s\\n' "$generator" > "$w/conf/install.conf"
  BOOT_ROOT="$w/boot" kernel-install --verbose add "$k" /usr/lib/modules/$k/vmlinuz "$@" > "$w/$name.log" 2>&1 || { cat "$w/$name.log"; exit 1; }
  grep -h '^initrd' "$w"/boot/loader/entries/*.conf | sed "s|^|$name entry: |"
  echo "case $name: $(sha256sum < "$w"/boot/0123456789abcdef0123456789abcdef/$k/initrd | cut -d' ' -f1)"
}
kernel-install --version | head -n1
run not-passed mkosi-initrd
run passed mkosi-initrd /usr/lib/modules/$k/initrd
if [ -e /usr/lib/kernel/install.d/50-dracut.install ] && [ -z "\${KERNEL_INSTALL_PLUGINS:-}" ]; then run dracut dracut; fi
`;

export interface ReuseResult {
  systemd: string;
  /** Case name → sha256 of the initrd in the entry directory. */
  cases: Record<string, string>;
  /** The initrd lines of each entry. */
  entries: string[];
}

export function parseReuse(stdout: string): ReuseResult {
  const cases: Record<string, string> = {};
  for (const m of stdout.matchAll(/^case (\S+): ([0-9a-f]{64})$/gm)) cases[m[1]!] = m[2]!;
  return { systemd: /^systemd \d+.*$/m.exec(stdout)?.[0] ?? '', cases, entries: stdout.split('\n').filter((l) => / entry: initrd/.test(l)) };
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
