#!/bin/bash
# Capture a host snapshot of a real storage stack built inside a QEMU guest (see test/vm/README.md).
#
#   bash test/vm/capture.sh <scenario> [OUTDIR]   one scenario (default OUTDIR test/fixtures/snapshots/<scenario>)
#   bash test/vm/capture.sh --all                 every scenario of the guest suite, into the fixtures
#   bash test/vm/capture.sh --list                the scenario names of the guest suite
# IW_GUEST_SUITE=trixie selects the Debian 13 guest (userland and kernel 6.12, test/vm/work/guest-trixie);
# its fixtures default to test/fixtures/snapshots/trixie-<scenario>, and --all/--list take the scenarios
# whose "#@suites:" header names trixie. The default suite is bookworm (scenarios without the header).
# The snapshot command run in the guest is `node <package.json bin> snapshot --output DIR`, from a copy
# of the host's node, dist/, production node_modules/, profiles/ and package.json in /opt/initrd-wizard.
# Options (before the scenario): --no-build  do not run `npm run build` first
#                                --keep      keep the temporary directory (disks, console log)
# Environment: IW_VM_TIMEOUT (seconds per guest run, default the scenario's "#@timeout:" or 420),
#              IW_VM_RETRIES (reruns of a guest that timed out, default 1), IW_VM_WORK (default test/vm/work),
#              IW_SNAPSHOT_STANDIN (a shell script run in the guest instead of the project's command;
#              for developing the harness only, never for fixtures).
#
# Needs root (it builds the guest on first use) and the packages in test/vm/host-packages.txt.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${IW_VM_WORK:-$HERE/work}
SUITE=${IW_GUEST_SUITE:-bookworm}
case "$SUITE" in
  bookworm) GUEST=$WORK/guest; PREFIX= ;;
  trixie) GUEST=$WORK/guest-$SUITE; PREFIX=$SUITE- ;;
  *) echo "capture.sh: IW_GUEST_SUITE must be bookworm or trixie, not '$SUITE'" >&2; exit 2 ;;
esac
export IW_GUEST_SUITE=$SUITE
TIMEOUT=${IW_VM_TIMEOUT:-420}
BUILD=1
KEEP=0

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    --list) LIST=1; shift ;;
    -h|--help) usage ;;
    *) break ;;
  esac
done
# Header lines of a scenario script: "#@key: value".
header() { sed -n "s/^#@$2:[[:space:]]*//p" "$1" | head -n1; }

# The suites a scenario is captured with ("#@suites:", default bookworm).
in_suite() { local s; s=$(header "$1" suites); case " ${s:-bookworm} " in *" $SUITE "*) return 0 ;; esac; return 1; }
suite_scenarios() { local s; for s in "$HERE"/scenarios/*.sh; do in_suite "$s" && basename "$s" .sh; done; return 0; }

if [ "${LIST:-0}" = 1 ]; then suite_scenarios; exit 0; fi
[ $# -ge 1 ] || usage

json_str() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }
json_list() { local out="" w; for w in $1; do out+="${out:+, }\"$w\""; done; echo "[$out]"; }

prepare_once() {
  command -v qemu-system-x86_64 >/dev/null || { echo "capture.sh: qemu-system-x86_64 missing (apt-get install \$(cat $HERE/host-packages.txt))" >&2; exit 2; }
  bash "$HERE/build-guest.sh"
  if [ -z "${IW_SNAPSHOT_STANDIN:-}" ]; then
    if [ $BUILD = 1 ]; then
      echo "capture.sh: npm run build"
      (cd "$REPO" && npm run build --silent)
    fi
  fi
  # The project's payload, shared by every scenario of this run: node, dist, production node_modules,
  # profiles, package.json under /opt/initrd-wizard.
  PAYLOAD=$(mktemp -d "${TMPDIR:-/tmp}/iw-payload.XXXXXX")
  local opt=$PAYLOAD/root/opt/initrd-wizard
  mkdir -p "$opt" "$PAYLOAD/root/usr/local/bin" "$PAYLOAD/root/iw"
  cp "$(readlink -f "$(command -v node)")" "$PAYLOAD/root/usr/local/bin/node"
  # The command line entry point: package.json's bin (dist/src/cli.js when there is none).
  (cd "$REPO" && node -e 'const p=require("./package.json"); const b=typeof p.bin==="string"?p.bin:(p.bin||{})["initrd-wizard"]; console.log(b||"dist/src/cli.js")') \
    > "$PAYLOAD/root/iw/entry"
  cp "$REPO/package.json" "$opt/"
  [ -d "$REPO/dist" ] && cp -a "$REPO/dist" "$opt/"
  [ -d "$REPO/profiles" ] && cp -a "$REPO/profiles" "$opt/"
  # Only production dependencies (npm ls --omit=dev); the whole node_modules if npm cannot tell.
  local deps
  deps=$(cd "$REPO" && npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s#^$REPO/##p" | grep '^node_modules/' || true)
  if [ -n "$deps" ]; then
    # Top-most package directories only (nested node_modules come along with their parent).
    local tops
    tops=$(echo "$deps" | LC_ALL=C sort | awk '{ for (i in seen) if (index($0, i "/") == 1) next; seen[$0]=1; print }')
    (cd "$REPO" && tar -cf - $tops) | tar -C "$opt" -xf -
  else
    cp -a "$REPO/node_modules" "$opt/"
  fi
  if [ -z "${IW_SNAPSHOT_STANDIN:-}" ] && [ ! -f "$REPO/$(cat "$PAYLOAD/root/iw/entry")" ]; then
    echo "capture.sh: $REPO/$(cat "$PAYLOAD/root/iw/entry") missing (npm run build)" >&2; exit 2
  fi
  if [ -n "${IW_SNAPSHOT_STANDIN:-}" ]; then
    cp "$IW_SNAPSHOT_STANDIN" "$PAYLOAD/root/iw/standin-snapshot.sh"
  fi
}

capture_one() {
  local name=$1 out=$2
  local script=$HERE/scenarios/$name.sh
  [ -f "$script" ] || { echo "capture.sh: no scenario $name ($script)" >&2; return 2; }
  local disks cmdline memory description features unsupported
  disks=$(header "$script" disks)
  cmdline=$(header "$script" cmdline)
  memory=$(header "$script" memory); memory=${memory:-2048}
  local limit; limit=${IW_VM_TIMEOUT:-$(header "$script" timeout)}; limit=${limit:-$TIMEOUT}
  description=$(header "$script" description)
  features=$(header "$script" expect-features)
  unsupported=$(header "$script" expect-unsupported)

  local t0; t0=$(date +%s)
  local T; T=$(mktemp -d "${TMPDIR:-/tmp}/iw-capture-$name.XXXXXX")
  echo "capture.sh: [$name] ($SUITE guest) $description"

  # Per-scenario payload: the stage scripts, the scenario, the project.
  local root=$T/root
  mkdir -p "$root/iw"
  cp -a "$PAYLOAD/root/." "$root/"
  cp "$HERE/guest/init" "$root/init"
  cp "$HERE/guest/stage2" "$HERE/guest/lib.sh" "$root/iw/"
  cp "$script" "$root/iw/scenario.sh"
  echo "$name" > "$root/iw/scenario-name"
  echo "$cmdline" > "$root/iw/scenario-cmdline"
  chmod 755 "$root/init" "$root/iw/stage2"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner=0:0) > "$T/payload.cpio"
  cat "$GUEST/base.cpio" "$T/payload.cpio" > "$T/initrd.cpio"
  rm -f "$T/payload.cpio"

  # Blank disks. "same:N" is a second path to disk N (same image, same serial).
  local args=() sizes=() i=0 d file serial
  for d in $disks; do
    case "$d" in
      same:*) file=$T/disk${d#same:}.img; serial=iwdisk${d#same:} ;;
      *) file=$T/disk$i.img; serial=iwdisk$i; sizes+=("$file=$d") ;;
    esac
    args+=(-drive "file=$file,if=none,id=d$i,format=raw,cache=unsafe,file.locking=off"
           -device "virtio-blk-pci,drive=d$i,serial=$serial,share-rw=on")
    i=$((i + 1))
  done

  # A guest that hangs (it happened once in ~40 runs, inside a device-mapper call waiting for udev)
  # is retried on fresh disks, IW_VM_RETRIES times (default 1); so is a capture with a timed-out probe.
  local rc attempt=0 retries=${IW_VM_RETRIES:-1} sz
  mkdir -p "$WORK/logs"
  while :; do
    for sz in "${sizes[@]}"; do rm -f "${sz%%=*}"; truncate -s "${sz#*=}" "${sz%%=*}"; done
    rm -f "$T/console.log" "$T/out.txt"
    rc=0
    timeout "$limit" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "$memory" \
      -nodefaults -display none -vga none -no-reboot -monitor none \
      -kernel "$GUEST/vmlinuz" -initrd "$T/initrd.cpio" \
      -append "console=ttyS0,115200 panic=-1 loglevel=4 $cmdline" \
      -serial "file:$T/console.log" -serial "file:$T/out.txt" \
      "${args[@]}" || rc=$?
    cp "$T/console.log" "$WORK/logs/$name.console.log" 2>/dev/null || true
    if [ $rc = 124 ] && [ $attempt -lt "$retries" ]; then
      attempt=$((attempt + 1))
      cp "$T/console.log" "$WORK/logs/$name.hung-$attempt.console.log" 2>/dev/null || true
      echo "capture.sh: [$name] the guest hung (no result in ${limit}s); console kept in $WORK/logs/$name.hung-$attempt.console.log; retrying" >&2
      continue
    fi
    # The guest kernel itself can crash under TCG with two vCPUs: an "Oops: int3" or a fatal
    # exception in sched_clock_cpu while it patches its own text (Debian's 6.12 and 7.x kernels,
    # about once in 40 boots). No scenario causes that (a scenario's failure prints ==IW-FAIL==),
    # so such a run is repeated on fresh disks.
    if [ $rc = 0 ] && [ $attempt -lt "$retries" ] && ! grep -q '^==IW-SNAPSHOT-END==' "$T/out.txt" 2>/dev/null \
       && ! grep -q '^==IW-FAIL==' "$T/out.txt" 2>/dev/null \
       && grep -q 'Kernel panic - not syncing' "$T/console.log" 2>/dev/null \
       && grep -Eq 'Oops: |BUG: |Fatal exception|general protection fault' "$T/console.log" 2>/dev/null; then
      attempt=$((attempt + 1))
      cp "$T/console.log" "$WORK/logs/$name.crashed-$attempt.console.log" 2>/dev/null || true
      echo "capture.sh: [$name] the guest kernel crashed ($(grep -Eao 'Oops: [^\r]*|BUG: [^\r]*|Kernel panic - not syncing: [^\r]*' "$T/console.log" | head -n1)); console kept in $WORK/logs/$name.crashed-$attempt.console.log; retrying" >&2
      continue
    fi
    # The snapshot command gives each probe a fixed timeout; under TCG on a busy host one can run
    # out (errors.json then says "did not finish within"). Such a capture is incomplete: run again.
    if [ $rc = 0 ] && grep -q '^==IW-SNAPSHOT-END==' "$T/out.txt" 2>/dev/null && [ $attempt -lt "$retries" ] \
       && tr -d '\r' < "$T/out.txt" | sed -n '/^==IW-SNAPSHOT-BEGIN==$/,/^==IW-SNAPSHOT-END==$/p' | sed '1d;$d' \
          | base64 -d 2>/dev/null | tar -xzOf - ./errors.json 2>/dev/null | grep -q 'did not finish within'; then
      attempt=$((attempt + 1))
      echo "capture.sh: [$name] a probe of the snapshot command timed out in the guest (errors.json); retrying" >&2
      continue
    fi
    break
  done
  rm -f "$T/initrd.cpio"; [ $KEEP = 1 ] || rm -f "$T"/disk*.img

  local secs=$(( $(date +%s) - t0 ))
  if [ $rc = 124 ]; then
    echo "capture.sh: [$name] TIMEOUT after ${limit}s; console: $WORK/logs/$name.console.log" >&2
    tail -n 30 "$T/console.log" >&2 || true
    [ $KEEP = 1 ] || rm -rf "$T"
    return 1
  fi
  if grep -q '^==IW-FAIL==' "$T/out.txt" 2>/dev/null || ! grep -q '^==IW-SNAPSHOT-END==' "$T/out.txt" 2>/dev/null; then
    echo "capture.sh: [$name] FAILED after ${secs}s: $(grep -a '^==IW-FAIL==' "$T/out.txt" 2>/dev/null | tr -d '\r' | head -n1)" >&2
    echo "capture.sh: console log: $WORK/logs/$name.console.log" >&2
    tail -n 40 "$T/console.log" >&2 || true
    [ $KEEP = 1 ] || rm -rf "$T"
    return 1
  fi

  local new=$T/snapshot
  mkdir -p "$new"
  tr -d '\r' < "$T/out.txt" | sed -n '/^==IW-SNAPSHOT-BEGIN==$/,/^==IW-SNAPSHOT-END==$/p' | sed '1d;$d' \
    | base64 -d | tar -xzf - -C "$new"
  [ -f "$new/snapshot.json" ] || { echo "capture.sh: [$name] no snapshot.json in the result" >&2; return 1; }

  local kver; kver=$(cat "$GUEST/kver")
  local suitejson=""; [ "$SUITE" = bookworm ] || suitejson="\"suite\": \"$SUITE\", "
  cat > "$new/scenario.json" <<EOF
{
  "scenario": "$name",
  "description": $(json_str "$description"),
  "expected": {"features": $(json_list "$features"), "unsupported": $(json_list "$unsupported")},
  "guest": {${suitejson}"kernel": "$kver", "disks": $(json_list "$disks"), "cmdline": $(json_str "$cmdline")},
  "producedBy": "test/vm/capture.sh (do not edit by hand)"
}
EOF
  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  cp -a "$new" "$out"
  [ $KEEP = 1 ] && echo "capture.sh: kept $T" || rm -rf "$T"
  echo "capture.sh: [$name] OK in ${secs}s -> $out"
}

cleanup() { [ -n "${PAYLOAD:-}" ] && rm -rf "$PAYLOAD"; }
trap cleanup EXIT

if [ "$1" = "--all" ]; then
  prepare_once
  failed=() ok=()
  for n in $(suite_scenarios); do
    if capture_one "$n" "$REPO/test/fixtures/snapshots/$PREFIX$n"; then ok+=("$n"); else failed+=("$n"); fi
  done
  echo "capture.sh: ${#ok[@]} captured, ${#failed[@]} failed${failed:+: ${failed[*]}}"
  [ ${#failed[@]} = 0 ]
else
  name=$1
  out=${2:-$REPO/test/fixtures/snapshots/$PREFIX$name}
  [ -f "$HERE/scenarios/$name.sh" ] || { echo "capture.sh: no scenario $name; try --list" >&2; exit 2; }
  in_suite "$HERE/scenarios/$name.sh" || echo "capture.sh: note: $name is not marked for the $SUITE guest (#@suites:); capturing anyway" >&2
  prepare_once
  capture_one "$name" "$out"
fi
