/**
 * The RPM spec `export --format rpm-spec` writes: %build runs mkosi-initrd
 * for one kernel with the exported configuration directory (Source0, a tar
 * archive of exactly what `export --format mkosi` writes), and the package
 * holds the initrd where kernel-install can take it from
 * (src/export/prebuilt.ts). Pure: the service writes the text and sources.
 *
 * The kernel version goes into the spec's macros, file names and shell
 * lines, so it is checked strictly here before anything is written.
 */
import { InputError } from '../errors.js';
import type { ModuleSource } from './layout.js';
import { OFFLINE_BUILDER } from './readme.js';
import { PREBUILT_FACTS, prebuiltInitrdPath, wrap } from './prebuilt.js';

/**
 * A kernel version fit for a package name, paths and a shell line: what
 * `uname -r` prints (6.1.0-57-amd64, 6.11.4-301.fc41.x86_64), letters, digits
 * and . _ + -, starting with a letter or digit. No "~": rpm refuses it in a
 * package name.
 */
const KVER = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export function checkKernelVersion(kver: string): void {
  if (!KVER.test(kver)) {
    const shown = JSON.stringify(kver.length > 80 ? `${kver.slice(0, 80)}…` : kver);
    throw new InputError(
      `${shown} cannot be the kernel version of a spec: it goes into the package name, paths and shell lines, so it may hold only letters, digits and . _ + - (starting with a letter or digit, at most 128 characters)`,
      'pass --kernel-version as `uname -r` prints it, or as a directory in /usr/lib/modules is named',
    );
  }
}

export interface SpecInput {
  toolId: string;
  kernelVersion: string;
  /** rpm's name for the target machine (x86_64, aarch64 …). */
  rpmArch: string;
  mkosiVersion: string;
  mkosiMajor: number;
  /** "debian 12" */
  distro: string;
  profiles: string[];
  modules: ModuleSource;
}

export interface SpecNames {
  name: string;
  spec: string;
  /** Source0: the exported directory as a tar archive, and the directory inside it. */
  tarball: string;
  top: string;
  /** Source1 and Source2, when the build selects modules through initrd-wizard's mkosi wrapper. */
  modulesList: string;
  wrapper: string;
}

export function specNames(kver: string): SpecNames {
  checkKernelVersion(kver);
  const name = `initrd-${kver}`;
  return { name, spec: `${name}.spec`, tarball: `${name}-mkosi.tar`, top: `${name}-mkosi`, modulesList: `${name}-modules`, wrapper: `${name}-mkosi-wrapper` };
}

/** --generic on mkosi 26 and later; otherwise the wrapper decides which modules count as loaded. */
export function usesWrapper(modules: ModuleSource, mkosiMajor: number): boolean {
  return !(modules === 'generic' && mkosiMajor >= 26);
}

/** A comment block: rpm expands macros in comments too, so every % is doubled. */
const comment = (text: string) => wrap(text.replace(/%/g, '%%'), '# ', 100);

function modulesComment(modules: ModuleSource, mkosiMajor: number): string {
  const loaded = 'mkosi-initrd keeps the kernel modules loaded on the machine it runs on (it reads /proc/modules), which on a builder are the builder\'s.';
  if (!usesWrapper(modules, mkosiMajor)) return `Kernel modules: generic. ${loaded} mkosi-initrd --generic leaves them out: the image keeps mkosi-initrd's default list and the storage stack's modules the drop-in names.`;
  const list = modules === 'snapshot' ? "the loaded modules of the snapshot's machine" : modules === 'live' ? 'the modules loaded on the machine that exported it' : 'empty: no loaded modules, only mkosi-initrd\'s default list and the storage stack\'s modules the drop-in names';
  return `Kernel modules: ${loaded} Source2 is initrd-wizard's mkosi wrapper: first on PATH, it is the real mkosi reading Source1 (in /proc/modules format: ${list}) instead.`;
}

export function renderSpec(s: SpecInput): string {
  const n = specNames(s.kernelVersion);
  const wrapper = usesWrapper(s.modules, s.mkosiMajor);
  const initrd = prebuiltInitrdPath('%{kver}');
  const lines = [
    ...comment(
      [
        `${n.spec}: the initrd of an initrd-wizard variant for Linux ${s.kernelVersion}, built with mkosi-initrd and installed as ${prebuiltInitrdPath(s.kernelVersion)}.`,
        `Written by ${s.toolId} (initrd-wizard export --format rpm-spec).`,
      ].join(' '),
    ),
    '#',
    '# Build it as root, on a machine with mkosi ' + s.mkosiMajor + ' and the modules of kernel ' + s.kernelVersion + ':',
    `#   rpmbuild --define "_sourcedir DIR" -bb DIR/${n.spec}`,
    '#',
    ...comment(`Variant: profiles ${s.profiles.join(', ')}; ${s.distro} package names; rendered for mkosi ${s.mkosiVersion}.`),
    ...comment(modulesComment(s.modules, s.mkosiMajor)),
    '#',
    '# Where kernel-install takes a prebuilt initrd from (KVER is this kernel version):',
    ...PREBUILT_FACTS.flatMap((p) => ['#', ...comment(p)]),
    '#',
    '# Builders without network:',
    ...OFFLINE_BUILDER.flatMap((p) => ['#', ...comment(p)]),
    '',
    `%global kver ${s.kernelVersion}`,
    `%global mkosi_major ${s.mkosiMajor}`,
    '# The initrd holds no debug information to extract.',
    '%global debug_package %{nil}',
    '',
    'Name:           initrd-%{kver}',
    'Version:        1',
    'Release:        1%{?dist}',
    'Summary:        initrd for Linux %{kver}, built with mkosi-initrd (initrd-wizard)',
    '# The initrd aggregates the packages mkosi installs into it, each under its own license.',
    'License:        LicenseRef-initrd-aggregate',
    'Source0:        initrd-%{kver}-mkosi.tar',
    ...(wrapper ? ['Source1:        initrd-%{kver}-modules', 'Source2:        initrd-%{kver}-mkosi-wrapper'] : []),
    `ExclusiveArch:  ${s.rpmArch}`,
    '%if 0%{?fedora}',
    '# Fedora\'s names (not built on Fedora by initrd-wizard\'s tests): mkosi-initrd is a subpackage of',
    '# mkosi; kernel-modules-core provides kernel-modules-core-uname-r; util-linux-core has unshare.',
    'BuildRequires:  mkosi-initrd',
    'BuildRequires:  kernel-modules-core-uname-r = %{kver}',
    'BuildRequires:  util-linux-core',
    '%endif',
    '',
    '%description',
    `The initrd for Linux %{kver} of the initrd-wizard variant with the profiles ${s.profiles.join(', ')},`,
    `built with mkosi-initrd from ${s.distro} packages and installed as`,
    `${initrd}. Installing the package hands it to kernel-install.`,
    '',
    '%prep',
    '%setup -q -c -T',
    'tar -xf %{SOURCE0}',
    '',
    '%build',
    ...comment('mkosi-initrd has no option that adds a configuration directory: it reads /usr/lib/mkosi-initrd and /etc/mkosi-initrd (and from mkosi 25 on /usr/local/lib/mkosi-initrd and /run/mkosi-initrd). So in a private mount namespace /etc gets an overlay whose upper layer makes room for /etc/mkosi-initrd, and the exported directory is bind-mounted there: the builder\'s own /etc/mkosi-initrd is hidden and nothing on the builder changes. This needs root, as does mkosi-initrd installing packages into an image.'),
    "major=$(mkosi --version | sed -n 's/^mkosi \\([0-9][0-9]*\\).*/\\1/p')",
    'if [ "$major" != "%{mkosi_major}" ]; then',
    '    echo "this configuration was exported for mkosi %{mkosi_major}, this builder has ${major:-no mkosi}: other major versions read it differently; export it again where that mkosi is installed" >&2',
    '    exit 1',
    'fi',
    'if [ ! -f /usr/lib/modules/%{kver}/modules.dep ]; then',
    '    echo "kernel %{kver} is not installed here (/usr/lib/modules/%{kver}/modules.dep): mkosi-initrd copies its modules into the initrd" >&2',
    '    exit 1',
    'fi',
    'rm -rf out ns wrap',
    'mkdir -p out ns/upper/mkosi-initrd ns/work',
    'set -- --kernel-version %{kver} -o initrd -O "$PWD/out"',
    ...(s.mkosiMajor >= 25
      ? [
          '# What kernel-install\'s 50-mkosi.install passes from mkosi 25 on.',
          'for k in /usr/lib/modules/%{kver}/vmlinuz /boot/vmlinuz-%{kver}; do',
          '    if [ -f "$k" ]; then set -- "$@" --kernel-image "$k"; break; fi',
          'done',
        ]
      : []),
    ...(wrapper
      ? ['mkdir -p wrap', 'install -m 0755 %{SOURCE2} wrap/mkosi', 'install -m 0644 %{SOURCE1} wrap/modules', 'PATH="$PWD/wrap:$PATH"', 'export PATH']
      : ['set -- "$@" --generic']),
    "unshare --mount --propagation private -- sh -euc '",
    'mount -t overlay initrd-wizard-export -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc',
    'mount --bind "$2" /etc/mkosi-initrd',
    'shift 2',
    `exec mkosi-initrd "$@"' sh "$PWD/ns" "$PWD/initrd-%{kver}-mkosi" "$@"`,
    '',
    '%install',
    '# mkosi 24 writes initrd.cpio.zst and an initrd link to it, 25 and later a file named initrd.',
    `install -D -m 0644 out/initrd %{buildroot}${initrd}`,
    '',
    '%files',
    initrd,
    '',
    '%posttrans',
    ...comment('kernel-install uses a prebuilt initrd when it is named on its command line (see the top of this file): put this one into the boot entry of the kernel, if the kernel is installed.'),
    'if command -v kernel-install >/dev/null 2>&1; then',
    '    for k in /usr/lib/modules/%{kver}/vmlinuz /boot/vmlinuz-%{kver}; do',
    '        if [ -f "$k" ]; then',
    `            kernel-install add %{kver} "$k" ${initrd} || :`,
    '            break',
    '        fi',
    '    done',
    'fi',
    '',
  ];
  return lines.join('\n');
}
