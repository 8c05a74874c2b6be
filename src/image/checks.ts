/**
 * Does the image contain what the detected storage stack needs? Each check is
 * tied to the HostReport: a LUKS root needs systemd-cryptsetup and dm_crypt,
 * an LVM root lvm and its udev rules, and so on.
 */
import { FS_MODULES, moduleFor, RAID_LEVEL_MODULES } from '../host/modules.js';
import type { HostReport } from '../host/report.js';
import type { CpioImage } from './cpio.js';

export interface ImageCheck {
  id: string;
  ok: boolean;
  detail: string;
}


const norm = (m: string) => m.replace(/-/g, '_');

export class ImageIndex {
  readonly names: string[];
  private readonly modules = new Map<string, string>();
  private readonly builtin = new Set<string>();
  readonly kernelVersions: string[];

  constructor(readonly image: CpioImage) {
    this.names = [...image.entries.keys()];
    const kvers = new Set<string>();
    for (const n of this.names) {
      const m = /^usr\/lib\/modules\/([^/]+)\/.*\/([^/]+)\.ko(\.(xz|zst|gz))?$/.exec(n);
      if (m) {
        this.modules.set(norm(m[2]!), n);
        kvers.add(m[1]!);
      }
      const b = /^usr\/lib\/modules\/([^/]+)\/modules\.builtin$/.exec(n);
      if (b) {
        kvers.add(b[1]!);
        for (const line of (image.read(n)?.toString('utf8') ?? '').split('\n')) {
          const mod = /\/([^/]+)\.ko$/.exec(line.trim());
          if (mod) this.builtin.add(norm(mod[1]!));
        }
      }
    }
    this.kernelVersions = [...kvers];
  }

  has(path: string): boolean {
    const p = path.replace(/^\/+/, '');
    // Merged /usr: /sbin/x may live at usr/sbin/x, /lib/x at usr/lib/x.
    return this.image.entries.has(p) || this.image.entries.has(p.replace(/^(bin|sbin|lib|lib64)\//, 'usr/$1/'));
  }

  find(re: RegExp): string[] {
    return this.names.filter((n) => re.test(n));
  }

  /** "module file" | "built in" | null */
  module(name: string): string | null {
    const n = norm(name);
    if (this.modules.has(n)) return this.modules.get(n)!;
    if (this.builtin.has(n)) return 'built in';
    return null;
  }

  get moduleCount(): number {
    return this.modules.size;
  }
}

function fileCheck(idx: ImageIndex, id: string, what: string, candidates: string[]): ImageCheck {
  const found = candidates.find((c) => idx.has(c));
  return { id, ok: !!found, detail: found ? `${what}: /${found.replace(/^\/+/, '')}` : `${what} missing (looked for ${candidates.join(', ')})` };
}

function patternCheck(idx: ImageIndex, id: string, what: string, re: RegExp): ImageCheck {
  const found = idx.find(re);
  return { id, ok: found.length > 0, detail: found.length ? `${what}: ${found.slice(0, 3).map((f) => `/${f}`).join(', ')}${found.length > 3 ? ` (+${found.length - 3})` : ''}` : `${what} missing` };
}

function moduleCheck(idx: ImageIndex, id: string, modules: string[], why: string): ImageCheck {
  const missing: string[] = [];
  const found: string[] = [];
  for (const m of modules) {
    const where = idx.module(m);
    if (where) found.push(`${m}${where === 'built in' ? ' (built in)' : ''}`);
    else missing.push(m);
  }
  return {
    id,
    ok: missing.length === 0,
    detail: missing.length ? `${why}: module${missing.length > 1 ? 's' : ''} ${missing.join(', ')} neither in the image nor built into the kernel` : `${why}: ${found.join(', ')}`,
  };
}

/** crypttab options that say nothing beyond "this is LUKS, unlock it": such a line unlocks the same way without being in the image. */
export const PLAIN_CRYPTTAB_OPTION = /^(luks|discard|nofail|x-initrd\.attach)$/;

export function checkImage(image: CpioImage, report: HostReport): { checks: ImageCheck[]; index: ImageIndex } {
  const idx = new ImageIndex(image);
  const checks: ImageCheck[] = [];
  const f = new Set(report.features);
  checks.push(fileCheck(idx, 'init', '/init', ['init']));
  checks.push(fileCheck(idx, 'initrd-release', 'initrd-release (systemd only switches root from an initrd that has one)', ['etc/initrd-release', 'usr/lib/initrd-release']));
  for (const m of report.mounts) {
    if (m.role === 'resume') continue;
    const mod = moduleFor(FS_MODULES, m.fstype);
    if (mod) checks.push(moduleCheck(idx, `fs-${m.fstype}`, [mod], `${m.target} is ${m.fstype}`));
  }
  if (report.diskDrivers.length) checks.push(moduleCheck(idx, 'disk-driver', report.diskDrivers, `controller of ${[...new Set(report.mounts.flatMap((m) => m.disks))].join(', ') || 'the root disk'}`));
  if (f.has('luks')) {
    checks.push(fileCheck(idx, 'luks-cryptsetup', 'systemd-cryptsetup', ['usr/lib/systemd/systemd-cryptsetup', 'usr/bin/systemd-cryptsetup', 'lib/systemd/systemd-cryptsetup']));
    checks.push(fileCheck(idx, 'luks-generator', 'systemd-cryptsetup-generator', ['usr/lib/systemd/system-generators/systemd-cryptsetup-generator', 'lib/systemd/system-generators/systemd-cryptsetup-generator']));
    checks.push(moduleCheck(idx, 'luks-dm-crypt', ['dm_crypt'], 'LUKS needs dm-crypt'));
    const crypttab = idx.image.read('etc/crypttab')?.toString('utf8') ?? '';
    const missing = report.crypttab.filter((c) => !new RegExp(`^\\s*${c.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`, 'm').test(crypttab));
    // Lines whose options only say "this is LUKS" unlock the same way through rd.luks.uuid=/auto-discovery;
    // others (tpm2-device=, keyfile-timeout=, header= …) change how unlocking works and must be in the image.
    const mattering = missing.filter((c) => !c.options.every((o) => PLAIN_CRYPTTAB_OPTION.test(o)));
    checks.push({
      id: 'luks-crypttab',
      ok: mattering.length === 0,
      detail: !report.crypttab.length
        ? 'no crypttab lines for the root stack: unlocked through rd.luks.uuid= or auto-discovery'
        : !missing.length
          ? `the image's crypttab has ${report.crypttab.map((c) => c.name).join(', ')}`
          : mattering.length
            ? `crypttab lines with options that matter are not in the image: ${mattering.map((c) => `${c.name} (${c.options.join(',')})`).join('; ')} — mark them x-initrd.attach`
            : `${missing.map((c) => c.name).join(', ')} not in the image's crypttab, but their options (${[...new Set(missing.flatMap((c) => c.options))].join(',') || 'none'}) need nothing beyond rd.luks.uuid=/auto-discovery`,
    });
    if (report.keymap && !/^(us|en-us)$/i.test(report.keymap)) {
      const vconsole = idx.image.read('etc/vconsole.conf')?.toString('utf8') ?? '';
      checks.push({ id: 'luks-keymap', ok: new RegExp(`^KEYMAP=["']?${report.keymap}["']?\\s*$`, 'm').test(vconsole), detail: `passphrase keymap ${report.keymap}: ${vconsole ? 'vconsole.conf in the image says ' + (/^KEYMAP=(.*)$/m.exec(vconsole)?.[1] ?? 'nothing') : 'no vconsole.conf in the image'}` });
    }
  }
  if (f.has('lvm')) {
    checks.push(fileCheck(idx, 'lvm-tool', 'lvm', ['usr/sbin/lvm', 'sbin/lvm', 'usr/bin/lvm']));
    checks.push(patternCheck(idx, 'lvm-udev-rules', 'LVM udev rules', /udev\/rules\.d\/\d+-lvm.*\.rules$/));
    checks.push(moduleCheck(idx, 'lvm-dm-modules', ['dm_mod'], 'LVM needs device-mapper'));
  }
  if (f.has('lvm-thin')) {
    checks.push(fileCheck(idx, 'lvm-thin-check', 'thin_check', ['usr/sbin/thin_check', 'sbin/thin_check', 'usr/bin/thin_check', 'usr/sbin/pdata_tools']));
    checks.push(moduleCheck(idx, 'lvm-thin-module', ['dm_thin_pool'], 'thin pools need dm-thin-pool'));
  }
  if (f.has('raid')) {
    checks.push(fileCheck(idx, 'raid-mdadm', 'mdadm', ['usr/sbin/mdadm', 'sbin/mdadm']));
    checks.push(patternCheck(idx, 'raid-udev-rules', 'md udev rules', /udev\/rules\.d\/\d+-md-raid.*\.rules$/));
    const levels = [...new Set(report.devices.map((d) => moduleFor(RAID_LEVEL_MODULES, d.type)).filter((m): m is string => !!m))];
    checks.push(moduleCheck(idx, 'raid-level-module', ['md_mod', ...levels], 'md arrays need md-mod and their level'));
    checks.push(fileCheck(idx, 'raid-mdadm-conf', 'mdadm.conf', ['etc/mdadm/mdadm.conf', 'etc/mdadm.conf']));
  }
  if (f.has('tpm2')) {
    checks.push(patternCheck(idx, 'tpm2-libraries', 'tpm2-tss', /libtss2-esys\.so/));
    checks.push(moduleCheck(idx, 'tpm2-modules', ['tpm_tis', 'tpm_crb'], 'TPM2 unlock needs the TPM drivers'));
  }
  if (f.has('fido2')) {
    checks.push(patternCheck(idx, 'fido2-library', 'libfido2', /libfido2\.so/));
    checks.push(moduleCheck(idx, 'fido2-modules', ['hid', 'usbhid', 'hid_generic'], 'FIDO2 keys need the HID drivers'));
  }
  if (f.has('pkcs11')) checks.push(patternCheck(idx, 'pkcs11-library', 'p11-kit', /libp11-kit\.so/));
  if (f.has('nfs')) {
    checks.push(fileCheck(idx, 'nfs-mount', 'mount.nfs', ['usr/sbin/mount.nfs', 'sbin/mount.nfs']));
    checks.push(patternCheck(idx, 'nfs-network', 'network units', /systemd-networkd\.service$/));
  }
  if (f.has('hibernate')) {
    checks.push(fileCheck(idx, 'resume-generator', 'the resume generator', ['usr/lib/systemd/system-generators/systemd-hibernate-resume-generator', 'lib/systemd/system-generators/systemd-hibernate-resume-generator']));
  }
  if (f.has('integrity')) checks.push(moduleCheck(idx, 'integrity-module', ['dm_integrity'], 'dm-integrity volumes'));
  if (f.has('verity')) checks.push(moduleCheck(idx, 'verity-module', ['dm_verity'], 'dm-verity volumes'));
  return { checks, index: idx };
}
