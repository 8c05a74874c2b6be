# bash completion for initrd-wizard (generated from its command definitions)
_initrd_wizard() {
  local cur prev cmd opts i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    --format) COMPREPLY=($(compgen -W "cpio uki" -- "$cur")); return ;;
    --layout) COMPREPLY=($(compgen -W "bls uki" -- "$cur")); return ;;
    --uki-generator) COMPREPLY=($(compgen -W "ukify mkosi" -- "$cur")); return ;;
    --snapshot|--root|--fleet|--arch|--output|-o|--distro|--repo|--packages|--kernel-version|--image|--loader|--log) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      snapshot|detect|suggest|closure|build|export|boot-test|install|revert|fleet|doctor) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
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
