/**
 * Variant → the mkosi-initrd drop-in that `install` writes to
 * /etc/mkosi-initrd/mkosi.conf.d/50-initrd-wizard.conf, plus the files it
 * carries in (a crypttab filtered to what the initrd needs).
 */
import type { HostReport } from '../host/report.js';
import type { Variant } from '../variant/suggest.js';
import { TOOL_ID } from '../version.js';
import { InputError } from '../errors.js';
import { checkConfigText, renderDropIn, type DropInSection } from './config.js';
import { dropInPackages, MKOSI_PROFILE_FOR, type LoadedModel } from './model.js';

export const DROP_IN_PATH = '/etc/mkosi-initrd/mkosi.conf.d/50-initrd-wizard.conf';
/** Generated files that go into the image, as an extra tree. */
export const EXTRA_TREE_DIR = '/etc/mkosi-initrd/initrd-wizard.extra';

export interface RenderOptions {
  /** Drop docs, locales and other things an initrd never reads. */
  slim?: boolean;
  /** mkosi major version: settings and what mkosi carries in itself changed between releases. */
  mkosiMajor: number;
  /** Host files that exist (only those can be carried in). */
  existing: Set<string>;
  /** The host's /etc/crypttab, to filter. */
  crypttab?: string | null;
  /** The installed mkosi's profiles (>= 26), whose packages a drop-in must name itself. */
  model?: Pick<LoadedModel, 'profiles'> | null;
  /** The user's removals that can really be made (planInstallSet's decision). */
  removePackages?: string[];
  /** The user's removals the build cannot make (something needs them): stated, never claimed as done. */
  refused?: string[];
  /**
   * install (default): the drop-in `install` writes, naming its extra trees by
   * their host paths. export: the drop-in of a self-contained directory
   * (`initrd-wizard export`), which names no host path: the caller copies
   * every tree (RenderedConfig.trees) into the mkosi.extra/ beside it.
   */
  purpose?: 'install' | 'export';
}

/** One extra tree of the drop-in: a host file or directory and where it lands in the image. */
export interface ExtraTree {
  source: string;
  target: string;
}

export interface RenderedConfig {
  path: string;
  text: string;
  /** Extra files: absolute host path → content. */
  files: Map<string, string>;
  /** What this mkosi version leaves to the user, said before anything is built. */
  notes: string[];
  /** Every extra tree, in the order mkosi applies them (a later one wins); the ExtraTrees= lines of an install drop-in. */
  trees: ExtraTree[];
}

/** mkosi matches module paths with regular expressions; kernel file names mix "-" and "_". */
export function moduleRegex(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new InputError(`${JSON.stringify(name)} is not a kernel module name (letters, digits, - and _): refusing to put it into mkosi's configuration`, 'check where it came from (a profile, or the snapshot\'s driver names)');
  }
  return `/${name.replace(/[-_]/g, '[-_]')}\\.ko`;
}

// Files mkosi-initrd handles itself, or that this renderer writes filtered.
const HANDLED = new Set(['/etc/crypttab', '/etc/kernel/cmdline', '/etc/vconsole.conf', '/etc/default/keyboard']);
/** The console keymap the passphrase prompt uses: mkosi copies these itself from 26 on. */
// Debian's /etc/vconsole.conf is a link to default/keyboard: the real file goes first, and a link is never carried (see hostConfig).
export const KEYMAP_FILES = ['/etc/default/keyboard', '/etc/vconsole.conf'];

/**
 * Slim removes what nothing in an initrd reads: documentation and locales,
 * perl (pulled in by package scripts, run at build time only), gconv, and
 * udev's compiled hardware database (12 MB; dracut leaves it out too: it
 * only adds descriptive device properties).
 */
const SLIM_REMOVE = [
  '/usr/share/doc', '/usr/share/man', '/usr/share/info', '/usr/share/locale', '/usr/share/i18n', '/usr/share/zoneinfo', '/usr/share/lintian',
  '/usr/share/bash-completion', '/usr/share/perl', '/usr/share/perl5', '/usr/bin/perl*', '/usr/lib/x86_64-linux-gnu/perl', '/usr/lib/x86_64-linux-gnu/perl-base',
  '/usr/lib/x86_64-linux-gnu/gconv', '/usr/include', '/var/cache', '/var/log', '/usr/lib/udev/hwdb.bin', '/etc/udev/hwdb.bin',
];
/**
 * The SOURCE_DATE_EPOCH every build of this drop-in uses: mkosi clamps every
 * file's mtime to it and hands it to package scripts. A fixed value, not one
 * derived from the package metadata: install writes the drop-in once and
 * kernel-install builds from it for every later kernel, so the value (and the
 * build record's key, which hashes the drop-in) must not change with an apt
 * update. Not 0 or 1: useradd writes the epoch's day count as the last
 * password change into /etc/shadow, and day 0 means "must change at next
 * login"; some tools also read 0 as "unset". 2024-01-01T00:00:00Z: the year
 * mkosi-initrd appeared.
 */
export const SOURCE_DATE_EPOCH = 1704067200;
/**
 * What differs between two mkosi 24 builds even with SourceDateEpoch= (dpkg's
 * alternatives.log, ldconfig's aux-cache, debconf's *-old backups): mkosi 25's
 * own mkosi-initrd configuration removes both directories; nothing in an
 * initrd reads them.
 */
const REPRODUCIBLE_REMOVE_BEFORE_25 = ['/var/cache', '/var/log'];
/** Without network storage the initrd needs no network daemons. */
const SLIM_REMOVE_NO_NETWORK = ['/usr/lib/systemd/systemd-networkd*', '/usr/lib/systemd/systemd-resolved', '/usr/lib/systemd/systemd-timesyncd'];

/** The crypttab lines the initrd needs: those for the root stack and those marked x-initrd.attach. */
export function filterCrypttab(text: string, report: HostReport): string | null {
  const needed = new Set(report.crypttab.map((c) => c.name));
  // systemd reads crypttab line by line too: a kept line must not carry a second one inside it.
  const lines = text.split('\n').filter((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return false;
    const [name, , , options] = t.split(/\s+/);
    const keep = (name && needed.has(name)) || (options ?? '').split(',').includes('x-initrd.attach');
    if (keep) checkConfigText(line.replace(/\t/g, ' '), `/etc/crypttab line ${i + 1}`);
    return keep;
  });
  return lines.length ? `# The lines of /etc/crypttab this initrd needs (written by ${TOOL_ID}).\n${lines.join('\n')}\n` : null;
}

/** crypttab lines the root stack needs that mkosi >= 25 will not copy (it copies only x-initrd.attach lines). */
export function unattachedRootLines(text: string, report: HostReport): string[] {
  const needed = new Set(report.crypttab.map((c) => c.name));
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((t) => t && !t.startsWith('#'))
    .map((t) => t.split(/\s+/))
    .filter(([name, , , options]) => name && needed.has(name) && !(options ?? '').split(',').includes('x-initrd.attach'))
    .map(([name]) => name!);
}

/** crypttab key files (third field: an absolute path that is not a device); mkosi copies them from 26 on. */
function keyFiles(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([name, , key]) => name && !name.startsWith('#') && key && key.startsWith('/') && !key.startsWith('/dev/'))
    .map(([, , key]) => key!);
}

export function renderVariant(variant: Variant, report: HostReport, options: RenderOptions): RenderedConfig {
  const files = new Map<string, string>();
  const extraTrees: string[] = [];
  const notes: string[] = [];
  const major = options.mkosiMajor;
  for (const f of variant.hostFiles) {
    if (HANDLED.has(f) || !options.existing.has(f)) continue;
    extraTrees.push(`${f}:${f}`);
  }
  // Before 26, mkosi copies no keymap: the passphrase prompt would use the US layout.
  if (major < 26) for (const f of KEYMAP_FILES) if (options.existing.has(f)) extraTrees.push(`${f}:${f}`);
  const carriesCrypttab = variant.hostFiles.includes('/etc/crypttab') && options.crypttab;
  if (carriesCrypttab && major < 25) {
    // mkosi < 25 copies no crypttab at all: carry the needed lines in ourselves.
    const filtered = filterCrypttab(options.crypttab!, report);
    if (filtered) {
      files.set(`${EXTRA_TREE_DIR}/etc/crypttab`, filtered);
      extraTrees.push(`${EXTRA_TREE_DIR}:/`);
    }
  } else if (carriesCrypttab) {
    // 25 and later copy the x-initrd.attach lines themselves; a second copy would replace theirs.
    const missing = unattachedRootLines(options.crypttab!, report);
    // rd.luks.name= opens a LUKS device by the UUID in its header: no help for plain dm-crypt or a detached header.
    const headerless = new Set(report.unsupported.filter((u) => u.id === 'plain-dm-crypt' || u.id === 'luks-detached-header').map((u) => u.device));
    const byName = missing.some((n) => headerless.has(n)) ? '' : ', or pass rd.luks.name= on the kernel command line';
    if (missing.length) notes.push(`mkosi ${major} copies only /etc/crypttab lines marked x-initrd.attach: add x-initrd.attach to the options of ${missing.join(', ')} (the root needs ${missing.length === 1 ? 'it' : 'them'} in the initrd)${byName}.`);
  }
  if (carriesCrypttab && major < 26) {
    const keys = keyFiles(options.crypttab!);
    if (keys.length) notes.push(`mkosi ${major} does not copy crypttab key files (${keys.join(', ')}; 26 does): the initrd will ask for a passphrase, or use a TPM2/FIDO2 token, for those volumes.`);
  }
  // mkosi >= 26 moved LVM, RAID … into profiles that kernel-install never enables: name their packages and files here.
  const profileTrees: string[] = [];
  for (const ours of variant.profiles) {
    const tree = options.model?.profiles[MKOSI_PROFILE_FOR[ours] ?? '']?.extraTree;
    if (tree && !profileTrees.includes(`${tree}:/`)) profileTrees.push(`${tree}:/`);
  }
  // An exported drop-in names no host path: its trees travel in the mkosi.extra/ beside it.
  const exported = options.purpose === 'export';
  const content: DropInSection['settings'] = [
    { key: 'Packages', values: dropInPackages(variant, options.model ?? null), comment: 'Packages from the profiles, plus your own additions' },
    { key: 'RemovePackages', values: options.removePackages ?? [], comment: 'Removed by you after installation (nothing else needs them)' },
    { key: 'ExtraTrees', values: exported ? [] : profileTrees, comment: "Files of mkosi's own profiles for this storage (kernel-install enables no profile)" },
    { key: 'KernelModulesInclude', values: variant.kernelModules.map(moduleRegex), comment: 'Modules the storage stack needs even when not loaded right now' },
    { key: 'ExtraTrees', values: exported ? [] : extraTrees, comment: 'Host configuration the initrd reads' },
  ];
  if (major < 25) content.push({ key: 'RemoveFiles', values: REPRODUCIBLE_REMOVE_BEFORE_25, comment: 'Logs and caches written at build time (mkosi 25 removes them itself): two builds stay identical' });
  if (options.slim) {
    const remove = (report.features.includes('network') ? SLIM_REMOVE : [...SLIM_REMOVE, ...SLIM_REMOVE_NO_NETWORK]).filter((f) => major >= 25 || !REPRODUCIBLE_REMOVE_BEFORE_25.includes(f));
    content.push({ key: 'RemoveFiles', values: remove, comment: 'Slim: nothing in this initrd reads these' });
  }
  content.push({ key: 'SourceDateEpoch', values: [String(SOURCE_DATE_EPOCH)], comment: `Reproducible builds: every timestamp clamped to ${new Date(SOURCE_DATE_EPOCH * 1000).toISOString().slice(0, 10)}, whatever environment kernel-install runs the build in` });
  const refused = variant.tweaks.remove.filter((n) => options.refused?.includes(n));
  const removedByYou = variant.tweaks.remove.filter((n) => !refused.includes(n));
  const trees = [...profileTrees, ...extraTrees].map((t): ExtraTree => {
    const i = t.lastIndexOf(':');
    return { source: t.slice(0, i), target: t.slice(i + 1) };
  });
  const header = [
    exported
      ? `Exported by ${TOOL_ID} (\`initrd-wizard export\`) for mkosi ${major}: see README.md in the exported directory.`
      : `Generated by ${TOOL_ID}; changes are overwritten by the next \`initrd-wizard install\`.`,
    `Profiles: ${variant.profiles.join(', ')} (${variant.distro}${variant.distroVersion ? ` ${variant.distroVersion}` : ''}).`,
    ...(variant.tweaks.add.length ? [`Added by you: ${variant.tweaks.add.join(', ')}.`] : []),
    ...(removedByYou.length ? [`Removed by you: ${removedByYou.join(', ')}.`] : []),
    ...(refused.length ? [`Kept although you removed them (other packages need them): ${refused.join(', ')}.`] : []),
    ...(exported
      ? trees.length ? ['The files the initrd reads are in mkosi.extra/ beside this file: mkosi adds it as an extra tree.'] : []
      : ['Revert with: initrd-wizard revert']),
  ];
  return { path: DROP_IN_PATH, text: renderDropIn(header, [{ name: 'Content', settings: content }]), files, notes, trees };
}
