/**
 * The README.md of an exported mkosi-initrd configuration: what is in it,
 * how mkosi-initrd and mkosi read it, and what a package build needs. Every
 * command it shows exists in the mkosi-initrd and mkosi it names (24.3 here,
 * 25.3 and 27.1 in the toolchain chroots). Pure.
 */
import { EXPORT_DROP_IN, EXPORT_DROP_IN_DIR, EXPORT_EXTRA, type ModuleSource } from './layout.js';
import { PREBUILT_FACTS } from './prebuilt.js';

export interface ReadmeInput {
  toolId: string;
  mkosiVersion: string;
  mkosiMajor: number;
  /** "debian 12" */
  distro: string;
  profiles: string[];
  packages: string[];
  modules: ModuleSource;
  /** The snapshot directory the variant came from, or null for this machine. */
  snapshot: string | null;
  /** Image paths of the files in mkosi.extra/. */
  carried: string[];
  /** Those read from the exporting machine's own files (lvm.conf, the keymap …): said when the variant is a snapshot's. */
  fromExporter: string[];
  /** What this mkosi version leaves to the user (RenderedConfig.notes). */
  notes: string[];
}

/** What mkosi-initrd does about kernel modules for this export, for people. */
export function modulesText(modules: ModuleSource, mkosiMajor: number): string {
  const generic =
    mkosiMajor >= 26
      ? 'mkosi-initrd --generic leaves out the loaded ones (mkosi 26 and later)'
      : `mkosi-initrd ${mkosiMajor} has no option to leave out the loaded ones (--generic came with mkosi 26)`;
  switch (modules) {
    case 'live':
      return 'mkosi-initrd keeps the kernel modules loaded on the machine it runs on, plus the ones the drop-in names (KernelModulesInclude=): build it on the machine it is for.';
    case 'snapshot':
    case 'snapshot-without-modules':
      return `The variant is the snapshot's machine's. mkosi-initrd keeps the kernel modules loaded on the machine it runs on, plus the ones the drop-in names (KernelModulesInclude=): build it on that machine. Elsewhere, ${generic}.`;
    case 'generic':
      return `Exported as a generic initrd: the drop-in names the storage stack's modules (KernelModulesInclude=), and ${generic}.`;
  }
}

/** The paragraphs on builders without network, shared with the repository's README. */
export const OFFLINE_BUILDER: readonly string[] = [
  "mkosi-initrd installs the initrd's packages from repositories. It gives mkosi the option --cache-only=metadata (mkosi 25 and later: when run as root): mkosi uses the repository metadata already cached on the builder and downloads the packages during the build. A builder without network (koji, mock) needs the packages on the builder before the build, in one of two ways:",
  '',
  `- As package files: a mkosi.packages/ directory beside the mkosi.conf in ${EXPORT_DROP_IN_DIR}/, or directories named by PackageDirectories= in a [Content] section of a drop-in. mkosi makes a local repository of those files for the build (mkosi 24.3 to 26 read both the same way).`,
  '',
  '- As a build-time repository: repository configuration on the builder (the /etc/yum.repos.d, /etc/dnf or /etc/apt that mkosi-initrd copies into the build) that points at a repository the builder can reach, with that repository\'s metadata in the builder\'s cache.',
  '',
  "Either way the packages must be the ones the drop-in asks for, for the distribution release it names. Neither way is tested by initrd-wizard's tests, which build with network.",
];

export function renderExportReadme(r: ReadmeInput): string {
  const from = r.snapshot ? `the snapshot ${r.snapshot}` : 'the machine it ran on';
  const lines = [
    '# mkosi-initrd configuration exported by initrd-wizard',
    '',
    `Exported by ${r.toolId} from ${from}, for mkosi ${r.mkosiVersion} and ${r.distro} package names.`,
    `Profiles: ${r.profiles.join(', ')}. Packages beyond mkosi-initrd's own: ${r.packages.join(', ') || 'none'}.`,
    '',
    '| path | what |',
    '|---|---|',
    `| \`${EXPORT_DROP_IN}\` | the drop-in \`initrd-wizard build\` builds with: packages, kernel modules, removals |`,
    ...(r.carried.length ? [`| \`${EXPORT_EXTRA}/\` | files the initrd reads (${r.carried.join(', ')}); mkosi adds this directory as an extra tree |`] : []),
    '',
    '## Building it with mkosi-initrd',
    '',
    'mkosi-initrd has no option that adds a configuration directory. It reads',
    '`/usr/lib/mkosi-initrd` and `/etc/mkosi-initrd` (mkosi 24), and also',
    '`/usr/local/lib/mkosi-initrd` and `/run/mkosi-initrd` from mkosi 25 on. So',
    `copy \`${EXPORT_DROP_IN_DIR}\` into the \`mkosi.conf.d/\` of one of them (as root,`,
    'in this directory), then build for a kernel version KVER as `uname -r` names it:',
    '',
    '```sh',
    'mkdir -p /etc/mkosi-initrd/mkosi.conf.d',
    `cp -r ${EXPORT_DROP_IN_DIR} /etc/mkosi-initrd/mkosi.conf.d/`,
    'mkosi-initrd --kernel-version KVER -O /var/tmp/initrd-out',
    '```',
    '',
    'With mkosi 25 or later, `/run/mkosi-initrd` instead of `/etc/mkosi-initrd` lasts',
    'until the next reboot. From then on, kernel-install builds every initrd with it',
    'when `/etc/kernel/install.conf` says `initrd_generator=mkosi-initrd` and a',
    "kernel-install plugin runs mkosi-initrd (mkosi's own `50-mkosi.install` from",
    "mkosi 25 on; Debian's mkosi 24.3 ships none). Removing the copied directory",
    'undoes it. `initrd-wizard install` writes its own drop-in',
    '(`/etc/mkosi-initrd/mkosi.conf.d/50-initrd-wizard.conf`) for the same host: use',
    'one or the other.',
    '',
    modulesText(r.modules, r.mkosiMajor),
    ...(r.snapshot && r.fromExporter.length
      ? ['', `${r.fromExporter.join(', ')} in mkosi.extra/ ${r.fromExporter.length === 1 ? 'is' : 'are'} the exporting machine's own, as \`initrd-wizard build --snapshot\` carries them: replace them with the snapshot's machine's where they differ.`]
      : []),
    '',
    `The drop-in is written for mkosi ${r.mkosiMajor}: other major versions copy other host files`,
    'themselves and moved packages into profiles, so export again on a machine with',
    'the mkosi that will build it.',
    ...(r.notes.length ? ['', ...r.notes.map((n) => `- ${n}`)] : []),
    '',
    '## With plain mkosi',
    '',
    "`--include=mkosi-initrd` names mkosi's own mkosi-initrd configuration; this",
    'directory goes on top of it. This shows what mkosi makes of the two:',
    '',
    '```sh',
    "mkosi --directory '' --include=mkosi-initrd --include=THIS-DIRECTORY summary",
    '```',
    '',
    'A build needs what mkosi-initrd adds on its own command line: the kernel\'s',
    'modules and firmware as extra trees, the module selection and the package',
    'manager configuration, all of which differ between mkosi versions; build with',
    'mkosi-initrd as above.',
    '',
    '## A package of the initrd',
    '',
    '`initrd-wizard export --format rpm-spec --kernel-version KVER` writes an RPM spec',
    'whose %build builds this configuration with mkosi-initrd and whose package',
    'installs the initrd as `/usr/lib/modules/KVER/initrd`. Where kernel-install takes',
    'a prebuilt initrd from:',
    '',
    ...PREBUILT_FACTS.flatMap((p) => [`- ${p}`]),
    '',
    '## Builders without network',
    '',
    ...OFFLINE_BUILDER,
    '',
  ];
  return lines.join('\n');
}
