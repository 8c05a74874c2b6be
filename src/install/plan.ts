/**
 * The InstallPlan: every file the opt-in touches, computed from the Variant
 * and the host, compared with what is there now. Nothing is written here.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { WizardError } from '../errors.js';
import type { HostReport } from '../host/report.js';
import type { Variant } from '../variant/suggest.js';
import type { MkosiInfo } from '../mkosi/version.js';
import { DROP_IN_PATH, EXTRA_TREE_DIR, renderVariant, type RenderedConfig } from '../mkosi/render.js';
import { packageRoot } from '../paths.js';
import { analyzeDracutPlugin } from './dracut.js';
import { setInstallConfKeys } from './installconf.js';
import { readInstallConf } from './dracut.js';
import type { PathState, Root } from './fsops.js';
import type { PlannedCmdline } from './uki.js';

export const KERNEL_CMDLINE = '/etc/kernel/cmdline';

export const INSTALL_CONF = '/etc/kernel/install.conf';
export const VENDOR_INSTALL_CONF = '/usr/lib/kernel/install.conf';
export const OUR_PLUGIN = '/etc/kernel/install.d/50-mkosi-initrd.install';
/**
 * Plugins that put another generator's initrd into the staging area: dracut's,
 * and Debian's 55-initrd.install, which links /boot/initrd.img-KVER (made by
 * initramfs-tools) in beside ours, where the kernel would unpack it last.
 */
/** The other generators' kernel-install plugins install may mask, and doctor reports on. */
export const OTHER_INITRD_PLUGINS = ['50-dracut.install', '51-dracut-rescue.install', '55-initrd.install'] as const;

/** Every directory install writes into: where recovery looks for temp files a killed run left. */
export const WRITE_DIRS = [path.posix.dirname(INSTALL_CONF), path.posix.dirname(KERNEL_CMDLINE), path.posix.dirname(OUR_PLUGIN), path.posix.dirname(DROP_IN_PATH), `${EXTRA_TREE_DIR}/etc`];
/** The only places a journal may name: what install and regenerate write (the boot entries live under /boot). */
export const JOURNALED_PREFIXES = ['/etc/kernel/', '/etc/mkosi-initrd/', '/boot/', '/efi/'];

export interface FileChange {
  path: string;
  kind: 'file' | 'symlink';
  content?: string | Buffer;
  mode?: number;
  target?: string;
  why: string;
}

/** The kernel-install plugin that builds the initrd after the install. */
export interface PluginChoice {
  path: string;
  owner: 'mkosi' | 'initrd-wizard';
}

/** An initrd generator that stays installed after the switch (what revert falls back to). */
export type Generator = 'dracut' | 'initramfs-tools';

export interface InstallPlan {
  changes: FileChange[];
  plugin: PluginChoice;
  /** The other initrd generators installed in the root: they stay, unused by kernel-install. */
  generators: Generator[];
  /** Changes already in place (re-running install with the same variant). */
  unchanged: FileChange[];
  notes: string[];
}

export interface PlanInput {
  root: Root;
  variant: Variant;
  report: HostReport;
  mkosi: Pick<MkosiInfo, 'major' | 'kernelInstallPlugin'>;
  layout: 'bls' | 'uki';
  ukiGenerator?: 'ukify' | 'mkosi';
  /** The crypttab to filter into the image (the host's, or the snapshot's). */
  crypttab: string | null;
  /** layout uki: what the UKI facts say (install.ts finds them in the root). */
  uki?: { cmdline: PlannedCmdline | null; notes: string[]; boot?: { dir: string } };
  /** The drop-in as build rendered it for this host's mkosi (commands/variant-config.ts); rendered here from the variant when absent. */
  config?: RenderedConfig;
}

function sameState(state: PathState, change: FileChange): boolean {
  if (change.kind === 'symlink') return state.type === 'symlink' && state.target === change.target;
  return state.type === 'file' && state.content.equals(Buffer.from(change.content!)) && state.mode === (change.mode ?? 0o644);
}

export async function planInstall(input: PlanInput): Promise<InstallPlan> {
  const { root } = input;
  const changes: FileChange[] = [];
  const notes: string[] = [];

  // Who builds the initrd for kernel-install: mkosi's own plugin where this mkosi ships one (25+), else ours.
  const plugin: PluginChoice = input.mkosi.kernelInstallPlugin
    ? { path: input.mkosi.kernelInstallPlugin, owner: 'mkosi' }
    : { path: OUR_PLUGIN, owner: 'initrd-wizard' };
  notes.push(
    plugin.owner === 'mkosi'
      ? `kernel-install builds the initrd with mkosi's own plugin ${plugin.path}; initrd-wizard installs no plugin of its own`
      : `this mkosi ships no kernel-install plugin: initrd-wizard installs ${OUR_PLUGIN} to run mkosi-initrd`,
  );

  // install.conf: kernel-install reads /etc's or /usr/lib's, never both.
  const etc = await root.state(INSTALL_CONF);
  if (etc.type === 'symlink') {
    throw new WizardError(
      `${INSTALL_CONF} is a symlink (to ${etc.target}): initrd-wizard will not edit a file through a link it did not create`, { hint: `replace the link with a regular file (cp --remove-destination "$(readlink -f ${INSTALL_CONF})" ${INSTALL_CONF}), then run install again` },
    );
  }
  if (etc.type === 'dir') throw new WizardError(`${INSTALL_CONF} is a directory`);
  const vendor = await root.state(VENDOR_INSTALL_CONF);
  const base = etc.type === 'file' ? etc.content.toString('utf8') : vendor.type === 'file' ? vendor.content.toString('utf8') : '';
  const effective = readInstallConf(base);
  const keys: Array<[string, string]> = [['initrd_generator', 'mkosi-initrd']];
  const whys = [`initrd_generator=mkosi-initrd: kernel-install runs ${plugin.path} to build the initrd`];
  if (input.layout === 'uki') {
    keys.push(['layout', 'uki'], ['uki_generator', input.ukiGenerator ?? 'ukify']);
    whys.push(`layout=uki, uki_generator=${input.ukiGenerator ?? 'ukify'}: the kernel, initrd and command line go into one UKI under $BOOT/EFI/Linux`);
  } else if (effective.get('layout') !== 'bls') {
    keys.push(['layout', 'bls']);
    whys.push(
      effective.has('layout')
        ? `layout=bls (was ${effective.get('layout')}): kernel-install copies the initrd to $BOOT/ENTRY-TOKEN/KVER/ and writes a boot loader entry for it`
        : 'layout=bls: left unset, kernel-install picks "other" unless $BOOT/ENTRY-TOKEN already exists, and with "other" it installs neither the initrd nor a boot loader entry; with bls it copies the initrd to $BOOT/ENTRY-TOKEN/KVER/ and writes $BOOT/loader/entries/ENTRY-TOKEN-KVER.conf',
    );
  }
  changes.push({
    path: INSTALL_CONF,
    kind: 'file',
    content: setInstallConfKeys(base, keys),
    mode: etc.type === 'file' ? etc.mode : 0o644,
    why: [...(etc.type !== 'file' && vendor.type === 'file' ? [`starts from ${VENDOR_INSTALL_CONF} (kernel-install reads only one of the two)`] : []), ...whys].join('; '),
  });

  if (input.layout === 'uki') {
    const c = input.uki?.cmdline ?? null;
    if (c?.existing) notes.push(`the UKI's command line comes from ${c.existing} as it is: ${c.options.join(' ') || '(empty)'}`);
    else if (c) {
      // Written down once, so that every later kernel-install builds the same UKI instead of copying whatever /proc/cmdline says then.
      changes.push({ path: KERNEL_CMDLINE, kind: 'file', content: `${c.options.join(' ')}\n`, mode: 0o644, why: `the command line ukify puts into the UKI, from ${c.from}` });
    }
    notes.push(...(input.uki?.notes ?? []));
  }

  // The mkosi-initrd drop-in and the files it carries in.
  let rendered = input.config;
  if (!rendered) {
    const existing = new Set<string>();
    for (const f of input.variant.hostFiles) if ((await root.state(f)).type === 'file') existing.add(f);
    rendered = renderVariant(input.variant, input.report, { mkosiMajor: input.mkosi.major, existing, crypttab: input.crypttab });
  }
  changes.push({ path: rendered.path, kind: 'file', content: rendered.text, mode: 0o644, why: `packages, modules and host files for ${input.variant.profiles.join(', ')}` });
  for (const [p, content] of rendered.files) changes.push({ path: p, kind: 'file', content, mode: 0o644, why: 'the crypttab lines the initrd needs' });

  // Plugins that would make or link another initrd: masked only when they do not step aside for initrd_generator.
  for (const name of OTHER_INITRD_PLUGINS) {
    const vendorPlugin = await root.state(`/usr/lib/kernel/install.d/${name}`);
    if (vendorPlugin.type !== 'file') continue;
    const mask = `/etc/kernel/install.d/${name}`;
    const current = await root.state(mask);
    if (current.type === 'symlink' && current.target === '/dev/null') {
      changes.push({ path: mask, kind: 'symlink', target: '/dev/null', why: `${name} is already masked` });
      continue;
    }
    const a = analyzeDracutPlugin(`/usr/lib/kernel/install.d/${name}`, vendorPlugin.content.toString('utf8'));
    if (a.yields) {
      notes.push(`${name}: ${a.reason}`);
      continue;
    }
    if (current.type === 'file') {
      notes.push(`${mask} is a local copy of the plugin: left alone (mask it yourself if it still makes an initrd)`);
      continue;
    }
    changes.push({ path: mask, kind: 'symlink', target: '/dev/null', why: `mask ${name}: ${a.reason}` });
  }

  // Our kernel-install plugin, where mkosi ships none.
  if (plugin.owner === 'mkosi' && (await root.state(OUR_PLUGIN)).type === 'file') {
    notes.push(`${OUR_PLUGIN} from an earlier install (before this mkosi shipped its own plugin) stays until revert; it steps aside whenever ${plugin.path} runs`);
  }
  if (plugin.owner === 'initrd-wizard') {
    const content = await readFile(path.join(packageRoot(), 'libexec', '50-mkosi-initrd.install'), 'utf8');
    changes.push({ path: OUR_PLUGIN, kind: 'file', content, mode: 0o755, why: 'this mkosi has no kernel-install plugin: run mkosi-initrd for "kernel-install add"' });
  }

  const runner = await whoRunsKernelInstall(root);
  if (runner) notes.push(runner);

  const todo: FileChange[] = [];
  const unchanged: FileChange[] = [];
  for (const c of changes) (sameState(await root.state(c.path), c) ? unchanged : todo).push(c);
  return { changes: todo, unchanged, notes: [...rendered.notes, ...notes], plugin, generators: await installedGenerators(root) };
}

/** dracut and initramfs-tools, by their programs (Debian's dracut also ships an update-initramfs). */
export async function installedGenerators(root: Root): Promise<Generator[]> {
  const has = async (paths: string[]) => {
    for (const p of paths) if ((await root.state(p)).type === 'file') return true;
    return false;
  };
  const out: Generator[] = [];
  if (await has(['/usr/bin/dracut', '/usr/sbin/dracut'])) out.push('dracut');
  if (await has(['/usr/sbin/mkinitramfs', '/usr/bin/mkinitramfs'])) out.push('initramfs-tools');
  return out;
}

function describe(state: PathState): string {
  if (state.type === 'symlink') return `symlink → ${state.target}\n`;
  if (state.type === 'file') return state.content.toString('utf8');
  if (state.type === 'dir') return '(a directory)\n';
  if (state.type === 'other') return `(a ${state.kind})\n`;
  return '';
}

/** The plan as a unified diff, file by file. */
export async function planDiff(root: Root, plan: InstallPlan): Promise<string> {
  const parts: string[] = [];
  for (const c of plan.changes) {
    const before = await root.state(c.path);
    const after = c.kind === 'symlink' ? `symlink → ${c.target}\n` : Buffer.isBuffer(c.content) ? `(${c.content.length} bytes)\n` : c.content!;
    const header = before.type === 'absent' ? `new ${c.kind === 'symlink' ? 'symlink' : `file, mode ${(c.mode ?? 0o644).toString(8)}`}` : 'changed';
    parts.push(createTwoFilesPatch(before.type === 'absent' ? '/dev/null' : c.path, c.path, describe(before), after, header, c.why, { context: 3 }));
  }
  return parts.join('\n');
}

/** What stays installed besides mkosi-initrd, as it is on this root (the one sentence both faces print after an install). */
export function fallbackLine(generators: Generator[]): string {
  const g = generators;
  if (!g.length) return 'No other initrd generator is installed here: mkosi-initrd is the only one kernel-install will run.';
  return `${g.join(' and ')} ${g.length > 1 ? 'stay' : 'stays'} installed as the fallback; kernel-install no longer uses ${g.length > 1 ? 'them' : 'it'}.`;
}

/**
 * Debian's kernel packages run the hooks in /etc/kernel/postinst.d, not
 * kernel-install; only a hook that calls it (systemd-boot's zz-systemd-boot)
 * makes a kernel update build with mkosi-initrd. Said when no hook does.
 */
async function whoRunsKernelInstall(root: Root): Promise<string | null> {
  const dir = '/etc/kernel/postinst.d';
  if ((await root.state(dir)).type !== 'dir') return null;
  for (const name of await root.list(dir)) {
    const text = await root.readText(`${dir}/${name}`).catch(() => null);
    if (text?.includes('kernel-install')) return null;
  }
  return `no hook in ${dir} runs kernel-install (Debian's systemd-boot package adds one), so kernel updates keep running the other hooks there and the boot loader keeps reading /boot/initrd.img-KVER: mkosi-initrd builds when kernel-install runs (\`kernel-install add KVER\`, or install --regenerate)`;
}
