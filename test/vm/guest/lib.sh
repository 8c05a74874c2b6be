# Helpers shared by the guest stages and the scenario scripts (sourced, bash).
# Scenario scripts (test/vm/scenarios/<name>.sh) define:
#   scenario_build      build the storage stack and mount the future root (and /usr, /boot, …) at $NEWROOT
#   scenario_configure  write $NEWROOT/etc/fstab, crypttab, … (runs after the userland was copied in)
#   scenario_final      optional; runs in the new root after switch_root, before the snapshot
# Key files are made with iw_keyfile; they stay in the guest (the snapshot is checked for them).

IW_CONSOLE=/dev/console
IW_OUT=/dev/ttyS1
IW_KEYDIR=/run/iw/keys

# Fast key derivation: real argon2id keyslots, but with the smallest costs cryptsetup accepts.
IW_PBKDF=(--pbkdf argon2id --pbkdf-memory 32 --pbkdf-parallel 1 --pbkdf-force-iterations 4)
IW_PBKDF_LUKS1=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

iw_log() { echo "[iw $(cut -d' ' -f1 /proc/uptime)] $*" > "$IW_CONSOLE"; }

iw_poweroff() {
  sync
  echo o > /proc/sysrq-trigger
  sleep 30
}

iw_fail() {
  iw_log "FAILED: $*"
  {
    echo "== lsblk"; lsblk -o NAME,KNAME,MAJ:MIN,TYPE,FSTYPE,SIZE,MOUNTPOINTS 2>&1
    echo "== findmnt"; findmnt 2>&1 | tail -n 30
    echo "== dmesg (tail)"; dmesg 2>&1 | tail -n 40
  } > "$IW_CONSOLE" 2>&1
  stty -F "$IW_OUT" raw -echo 2>/dev/null
  echo "==IW-FAIL== $*" > "$IW_OUT"
  iw_poweroff
}

iw_udevd_path() {
  local p
  for p in /usr/lib/systemd/systemd-udevd /lib/systemd/systemd-udevd; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  echo systemd-udevd
}

iw_start_udev() {
  "$(iw_udevd_path)" --daemon --resolve-names=never
  udevadm trigger --type=subsystems --action=add
  udevadm trigger --type=devices --action=add
  udevadm settle --timeout=120
}

iw_stop_udev() {
  udevadm settle --timeout=60 || true
  udevadm control --exit || true
  local i
  for i in $(seq 1 50); do
    pgrep -x systemd-udevd >/dev/null 2>&1 || break
    sleep 0.1
  done
}

iw_settle() { udevadm settle --timeout=120 || true; }

# Partition N of a block device name: vda 2 -> /dev/vda2, nbd0 1 -> /dev/nbd0p1, md0 1 -> /dev/md0p1.
iw_part() {
  case "$1" in
    *[0-9]) echo "/dev/${1}p$2" ;;
    *) echo "/dev/$1$2" ;;
  esac
}

# iw_gpt DEV LABEL-ID < sfdisk partition lines
iw_gpt() {
  local dev=$1 id=$2
  { echo "label: gpt"; echo "label-id: $id"; cat; } | sfdisk --quiet --wipe always "$dev"
  iw_settle
}

# iw_keyfile NAME -> path of a new random ASCII key (also remembered for the secrets check)
iw_keyfile() {
  mkdir -p "$IW_KEYDIR"
  local f=$IW_KEYDIR/$1.key
  head -c 48 /dev/urandom | base64 -w0 > "$f"
  chmod 600 "$f"
  echo "$f"
}

# iw_install_key NAME DEST-IN-NEWROOT: put a key into the new root (mode 0600), as a real host keeps it.
iw_install_key() {
  local dest=$NEWROOT$2
  mkdir -p "$(dirname "$dest")"
  chmod 700 "$(dirname "$dest")"
  cp "$IW_KEYDIR/$1.key" "$dest"
  chmod 600 "$dest"
}

# True when any key file's content appears in the snapshot directory.
iw_snapshot_has_secrets() {
  local snap=$1 k
  [ -d "$IW_KEYDIR" ] || return 1
  for k in "$IW_KEYDIR"/*.key; do
    [ -f "$k" ] || continue
    if grep -rqF -- "$(cat "$k")" "$snap"; then
      iw_log "key $(basename "$k") found in the snapshot"
      return 0
    fi
  done
  return 1
}

# The scenario's kernel command line (from its #@cmdline header), as written to /etc/kernel/cmdline.
iw_scenario_cmdline() { cat /run/iw/scenario-cmdline 2>/dev/null || cat /iw/scenario-cmdline; }

iw_write_kernel_cmdline() {
  mkdir -p "$NEWROOT/etc/kernel"
  echo "$(iw_scenario_cmdline)" > "$NEWROOT/etc/kernel/cmdline"
}

# MAJ:MIN of a block device (follows symlinks)
iw_majmin() { lsblk -dno MAJ:MIN "$(readlink -f "$1")" | tr -d ' '; }

# As systemd-hibernate-resume-generator does: tell the kernel which device holds the image.
iw_set_resume() { iw_majmin "$1" > /sys/power/resume; }

# Copies the initramfs userland into DEST. Paths listed in IW_COPY_SKIP (e.g. "./usr", for a read-only
# /usr that scenario_build already filled) are left out.
iw_copy_userland() {
  local dest=$1 skip=() p
  for p in ${IW_COPY_SKIP:-}; do skip+=(--exclude="$p"); done
  tar -C / -cf - --exclude=./newroot --exclude=./iw --exclude=./init "${skip[@]}" \
      --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' --exclude='./run/*' \
      --exclude='./tmp/*' . | tar -C "$dest" -xpf -
  mkdir -p "$dest/proc" "$dest/sys" "$dest/dev" "$dest/run" "$dest/tmp"
  chmod 1777 "$dest/tmp"
}

iw_send_dir() {
  local dir=$1
  stty -F "$IW_OUT" raw -echo 2>/dev/null
  {
    echo "==IW-SNAPSHOT-BEGIN=="
    tar -C "$dir" --owner=0 --group=0 -czf - . | base64 -w 76
    echo "==IW-SNAPSHOT-END=="
  } > "$IW_OUT"
  sync
}

# A realistic /etc/fstab header.
iw_fstab_header() {
  cat <<'EOF'
# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
EOF
}

# iw_luks_format DEV UUID KEYNAME [luksFormat options…]: LUKS2 (unless --type luks1 is given) with a
# fresh random key file, fast argon2id keyslot.
iw_luks_format() {
  local dev=$1 uuid=$2 key; key=$(iw_keyfile "$3"); shift 3
  local pbkdf=("${IW_PBKDF[@]}")
  case " $* " in *" luks1 "*) pbkdf=("${IW_PBKDF_LUKS1[@]}") ;; esac
  cryptsetup luksFormat -q --type luks2 "${pbkdf[@]}" --uuid "$uuid" --key-file "$key" "$@" "$dev"
}

# iw_luks_open DEV NAME KEYNAME [open options…]
iw_luks_open() {
  local dev=$1 name=$2 key=$IW_KEYDIR/$3.key; shift 3
  cryptsetup open --key-file "$key" "$@" "$dev" "$name"
  iw_settle
}

# iw_luks_add_key DEV KEYNAME NEWKEYNAME: a second keyslot (slot 1), e.g. the one a token unlocks.
iw_luks_add_key() {
  local dev=$1 key=$IW_KEYDIR/$2.key new; new=$(iw_keyfile "$3")
  cryptsetup luksAddKey -q "${IW_PBKDF[@]}" --key-file "$key" --new-key-slot 1 "$dev" "$new"
}

iw_b64() { head -c "$1" /dev/urandom | base64 -w0; }
iw_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# LUKS2 tokens as systemd-cryptenroll writes them (systemd 252 field names); no TPM or key needed.
iw_token_tpm2() {
  cat <<JSON
{"type":"systemd-tpm2","keyslots":["$1"],"tpm2-blob":"$(iw_b64 222)","tpm2-pcrs":[7],"tpm2-pcr-bank":"sha256","tpm2-primary-alg":"ecc","tpm2-policy-hash":"$(iw_hex 32)","tpm2-pin":false}
JSON
}
iw_token_fido2() {
  cat <<JSON
{"type":"systemd-fido2","keyslots":["$1"],"fido2-credential":"$(iw_b64 64)","fido2-salt":"$(iw_b64 32)","fido2-rp":"io.systemd.cryptsetup","fido2-clientPin-required":false,"fido2-up-required":true,"fido2-uv-required":false}
JSON
}

# Debian's default mdadm.conf with the ARRAY lines of the running arrays.
iw_write_mdadm_conf() {
  mkdir -p "$NEWROOT/etc/mdadm"
  {
    cat <<'CONF'
# mdadm.conf
#
# !NB! Run update-initramfs -u after updating this file.
# !NB! This will ensure that initramfs has an uptodate copy.
#
# Please refer to mdadm.conf(5) for information about this file.
#

# by default (built-in), scan all partitions (/proc/partitions) and all
# containers for MD superblocks. alternatively, specify devices to scan, using
# wildcards if desired.
#DEVICE partitions containers

# automatically tag new arrays as belonging to the local system
HOMEHOST <system>

# instruct the monitoring daemon where to send mail alerts
MAILADDR root

# definitions of existing MD arrays
CONF
    mdadm --detail --scan
  } > "$NEWROOT/etc/mdadm/mdadm.conf"
}
