# bash completion for initrd-wizard (generated from its command definitions)
_initrd_wizard() {
  local cur prev cmd opts i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      snapshot|detect|suggest|closure|build|export|boot-test|install|revert|fleet|doctor) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd $prev" in
    " --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    " --root") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
    " --fleet") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    " --arch") COMPREPLY=($(compgen -W "x86_64 aarch64 i686 armv7l ppc64le s390x riscv64 loongarch64" -- "$cur")); return ;;
    "snapshot --output"|"snapshot -o") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "detect --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "suggest --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "suggest --distro") COMPREPLY=($(compgen -W "fedora rhel centos almalinux rocky ol debian ubuntu linuxmint pop raspbian kali arch archarm endeavouros manjaro cachyos opensuse opensuse-tumbleweed opensuse-leap sles suse" -- "$cur")); return ;;
    "closure --distro") COMPREPLY=($(compgen -W "fedora rhel centos almalinux rocky ol debian ubuntu linuxmint pop raspbian kali arch archarm endeavouros manjaro cachyos opensuse opensuse-tumbleweed opensuse-leap sles suse" -- "$cur")); return ;;
    "closure --repo") COMPREPLY=(); return ;;
    "closure --packages") COMPREPLY=(); return ;;
    "closure --arch") COMPREPLY=($(compgen -W "x86_64 aarch64 i686 armv7l ppc64le s390x riscv64 loongarch64" -- "$cur")); return ;;
    "closure --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "build --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "build --kernel-version") COMPREPLY=($(compgen -d -- "/usr/lib/modules/$cur")); COMPREPLY=("${COMPREPLY[@]#/usr/lib/modules/}"); return ;;
    "build --output"|"build -o") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "build --distro") COMPREPLY=($(compgen -W "fedora rhel centos almalinux rocky ol debian ubuntu linuxmint pop raspbian kali arch archarm endeavouros manjaro cachyos opensuse opensuse-tumbleweed opensuse-leap sles suse" -- "$cur")); return ;;
    "build --arch") COMPREPLY=($(compgen -W "x86_64 aarch64 i686 armv7l ppc64le s390x riscv64 loongarch64" -- "$cur")); return ;;
    "build --format") COMPREPLY=($(compgen -W "cpio uki" -- "$cur")); return ;;
    "export --format") COMPREPLY=($(compgen -W "mkosi rpm-spec" -- "$cur")); return ;;
    "export --output"|"export -o") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
    "export --kernel-version") COMPREPLY=($(compgen -d -- "/usr/lib/modules/$cur")); COMPREPLY=("${COMPREPLY[@]#/usr/lib/modules/}"); return ;;
    "export --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "export --distro") COMPREPLY=($(compgen -W "fedora rhel centos almalinux rocky ol debian ubuntu linuxmint pop raspbian kali arch archarm endeavouros manjaro cachyos opensuse opensuse-tumbleweed opensuse-leap sles suse" -- "$cur")); return ;;
    "boot-test --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "boot-test --kernel-version") COMPREPLY=($(compgen -d -- "/usr/lib/modules/$cur")); COMPREPLY=("${COMPREPLY[@]#/usr/lib/modules/}"); return ;;
    "boot-test --image") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "boot-test --format") COMPREPLY=($(compgen -W "cpio uki" -- "$cur")); return ;;
    "boot-test --loader") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "boot-test --log") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "install --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "install --kernel-version") COMPREPLY=($(compgen -d -- "/usr/lib/modules/$cur")); COMPREPLY=("${COMPREPLY[@]#/usr/lib/modules/}"); return ;;
    "install --root") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
    "install --layout") COMPREPLY=($(compgen -W "bls uki" -- "$cur")); return ;;
    "install --uki-generator") COMPREPLY=($(compgen -W "ukify mkosi" -- "$cur")); return ;;
    "install --distro") COMPREPLY=($(compgen -W "fedora rhel centos almalinux rocky ol debian ubuntu linuxmint pop raspbian kali arch archarm endeavouros manjaro cachyos opensuse opensuse-tumbleweed opensuse-leap sles suse" -- "$cur")); return ;;
    "revert --root") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
    "doctor --snapshot") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    "doctor --kernel-version") COMPREPLY=($(compgen -d -- "/usr/lib/modules/$cur")); COMPREPLY=("${COMPREPLY[@]#/usr/lib/modules/}"); return ;;
  esac
  if [[ "$cur" != -* ]]; then
    case "$cmd" in
    fleet) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
  fi
  case "$cmd" in
    snapshot) opts="--output -o --json --help" ;;
    detect) opts="--snapshot --json --help" ;;
    suggest) opts="--snapshot --distro --json --help" ;;
    closure) opts="--distro --repo --packages --arch --snapshot --verify --weak --json --help" ;;
    build) opts="--snapshot --kernel-version --output -o --slim --generic --distro --arch --format --check-reproducible --json --help" ;;
    export) opts="--format --output -o --kernel-version --snapshot --distro --generic --slim --json --help" ;;
    boot-test) opts="--snapshot --kernel-version --image --format --loader --log --json --help" ;;
    install) opts="--snapshot --kernel-version --root --dry-run --yes -y --layout --uki-generator --regenerate --force --distro --json --help" ;;
    revert) opts="--root --force --json --help" ;;
    fleet) opts="--csv --json --help" ;;
    doctor) opts="--snapshot --kernel-version --json --help" ;;
    "") opts="snapshot detect suggest closure build export boot-test install revert fleet doctor --version -V --demo --snapshot --root --fleet --arch --json --help --version" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _initrd_wizard initrd-wizard
