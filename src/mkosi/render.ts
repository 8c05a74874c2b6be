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
}

export interface RenderedConfig {
  path: string;
  text: string;
  /** Extra files: absolute host path → content. */
  files: Map<string, string>;
}

/** mkosi matches module paths with regular expressions; kernel file names mix "-" and "_". */
export function moduleRegex(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new InputError(`${JSON.stringify(name)} is not a kernel module name (letters, digits, - and _): refusing to put it into mkosi's configuration`, 'check where it came from (a profile, or the snapshot\'s driver names)');
  }
  return `/${name.replace(/[-_]/g, '[-_]')}\\.ko`;
}

// Files mkosi-initrd handles itself, or that this renderer writes filtered.
const HANDLED = new Set(['/etc/crypttab', '/etc/kernel/cmdline', '/etc/vconsole.conf']);

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

export function renderVariant(variant: Variant, report: HostReport, options: RenderOptions): RenderedConfig {
  const files = new Map<string, string>();
  const extraTrees: string[] = [];
  for (const f of variant.hostFiles) {
    if (HANDLED.has(f) || !options.existing.has(f)) continue;
    extraTrees.push(`${f}:${f}`);
  }
  // mkosi < 25 copies no crypttab at all: carry the needed lines in ourselves.
  if (options.mkosiMajor < 25 && variant.hostFiles.includes('/etc/crypttab') && options.crypttab) {
    const filtered = filterCrypttab(options.crypttab, report);
    if (filtered) {
      files.set(`${EXTRA_TREE_DIR}/etc/crypttab`, filtered);
      extraTrees.push(`${EXTRA_TREE_DIR}:/`);
    }
  }
  const content: DropInSection['settings'] = [
    { key: 'Packages', values: variant.packages, comment: 'Packages from the profiles, plus your own additions' },
    { key: 'KernelModulesInclude', values: variant.kernelModules.map(moduleRegex), comment: 'Modules the storage stack needs even when not loaded right now' },
    { key: 'ExtraTrees', values: extraTrees, comment: 'Host configuration the initrd reads' },
  ];
  if (options.slim) {
    const remove = report.features.includes('network') ? SLIM_REMOVE : [...SLIM_REMOVE, ...SLIM_REMOVE_NO_NETWORK];
    content.push({ key: 'RemoveFiles', values: remove, comment: 'Slim: nothing in this initrd reads these' });
  }
  const header = [
    `Generated by ${TOOL_ID}; changes are overwritten by the next \`initrd-wizard install\`.`,
    `Profiles: ${variant.profiles.join(', ')} (${variant.distro}${variant.distroVersion ? ` ${variant.distroVersion}` : ''}).`,
    ...(variant.tweaks.add.length ? [`Added by you: ${variant.tweaks.add.join(', ')}.`] : []),
    ...(variant.tweaks.remove.length ? [`Removed by you: ${variant.tweaks.remove.join(', ')}.`] : []),
    'Revert with: initrd-wizard revert',
  ];
  return { path: DROP_IN_PATH, text: renderDropIn(header, [{ name: 'Content', settings: content }]), files };
}
