/**
 * What a unified kernel image holds and whether its command line fits the
 * host. The sections are read natively (pe.ts); the embedded initrd is handed
 * to the same checks as a cpio build; the command line is compared with the
 * storage the host's report describes, device by device through lsblk, since
 * root=, rd.luks.* and resume= name devices in several spellings
 * (UUID=, /dev/mapper/…, /dev/disk/by-…).
 */
import type { HostReport } from '../host/report.js';
import { deviceByName, findDevice, type BlockDevice, type BlockGraph } from '../host/parse/lsblk.js';
import { cmdlineValue } from '../uki/cmdline.js';
import { PLAIN_CRYPTTAB_OPTION, type ImageCheck } from './checks.js';
import { findSection, readPe, sectionData } from './pe.js';

/** Without these a UKI does not boot this host's way: the kernel, our initrd, the command line, and os-release for the boot menu. */
export const REQUIRED_SECTIONS = ['.linux', '.initrd', '.cmdline', '.osrel'] as const;

/** Sections worth naming when present, and what each is for. */
export const OPTIONAL_SECTIONS: Record<string, string> = {
  '.ucode': 'CPU microcode, loaded before the initrd',
  '.uname': 'the kernel version',
  '.sbat': 'SBAT revocation metadata (Secure Boot)',
  '.pcrsig': 'signed expected PCR 11 values (TPM2 policy)',
  '.pcrpkey': 'the public key of the PCR signature',
  '.splash': 'boot splash image',
  '.dtb': 'device tree',
  '.profile': 'a UKI profile',
};

export interface UkiSummary {
  arch: string;
  /** Every section in file order with its real (unpadded) length. */
  sections: Array<{ name: string; size: number }>;
  uname: string | null;
  cmdline: string | null;
  /** PRETTY_NAME of .osrel. */
  osRelease: string | null;
  missing: string[];
}

export interface UkiContents {
  summary: UkiSummary;
  /** The .initrd section's bytes (possibly several concatenated archives, microcode first). */
  initrd: Buffer | null;
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8').replace(/\0+$/, ''));

/** Reads the sections; throws PeFormatError when the file is no PE image. */
export function readUki(raw: Buffer, what: string): UkiContents {
  const pe = readPe(raw, what);
  const data = (name: string) => {
    const s = findSection(pe, name);
    return s ? sectionData(raw, s) : null;
  };
  const osrel = text(data('.osrel'));
  const pretty = osrel ? (/^PRETTY_NAME=["']?(.*?)["']?\s*$/m.exec(osrel)?.[1] ?? /^NAME=["']?(.*?)["']?\s*$/m.exec(osrel)?.[1] ?? null) : null;
  return {
    summary: {
      arch: pe.arch,
      sections: pe.sections.map((s) => ({ name: s.name, size: sectionData(raw, s).length })),
      uname: text(data('.uname'))?.trim() || null,
      cmdline: text(data('.cmdline')),
      osRelease: pretty,
      missing: REQUIRED_SECTIONS.filter((n) => !findSection(pe, n)),
    },
    initrd: data('.initrd'),
  };
}

export function sectionCheck(s: UkiSummary): ImageCheck {
  const optional = s.sections.filter((x) => OPTIONAL_SECTIONS[x.name]).map((x) => x.name);
  return {
    id: 'uki-sections',
    ok: s.missing.length === 0,
    detail: s.missing.length
      ? `the UKI lacks ${s.missing.join(', ')} (a UKI needs ${REQUIRED_SECTIONS.join(', ')})`
      : `${REQUIRED_SECTIONS.join(', ')} present${optional.length ? `; also ${optional.join(', ')}` : ''}`,
  };
}

const unquote = (v: string) => v.replace(/^"(.*)"$/, '$1');
const luksId = (v: string) => unquote(v).replace(/^UUID=/i, '').replace(/^luks-/, '').toLowerCase();

/** The LUKS containers the root stack opens, with the UUID of their crypto_LUKS device when lsblk knows it. */
function luksVolumes(report: HostReport, graph: BlockGraph | null): Array<{ name: string; uuid: string | null }> {
  return report.devices
    .filter((d) => d.type === 'crypt')
    .map((d) => {
      const dev = graph ? deviceByName(graph, d.name) : null;
      const parent = dev && graph ? dev.parents.map((k) => graph.devices.get(k)).find((p): p is BlockDevice => !!p && p.fstype === 'crypto_LUKS') : undefined;
      return { name: d.name, uuid: parent?.uuid?.toLowerCase() ?? /^luks-([0-9a-f-]{36})$/i.exec(d.name)?.[1]?.toLowerCase() ?? null };
    });
}

/** The LUKS UUIDs rd.luks.uuid= and rd.luks.name= open (lower case, without "luks-"). */
function luksOpened(options: readonly string[]): Set<string> {
  return new Set([
    ...options.filter((o) => o.startsWith('rd.luks.uuid=')).map((o) => luksId(o.slice(13))),
    ...options.filter((o) => o.startsWith('rd.luks.name=')).map((o) => luksId(o.slice(13).split('=')[0]!)),
  ]);
}

/** The device a spec names, or null (unknown spec, or no lsblk to ask). */
const lookup = (graph: BlockGraph | null, spec: string) => (graph ? findDevice(graph, unquote(spec)) : null);

function sameDevice(graph: BlockGraph | null, spec: string, host: string): boolean {
  if (unquote(spec) === host) return true;
  const a = lookup(graph, spec);
  const b = lookup(graph, host) ?? (graph ? deviceByName(graph, host) : null);
  return !!a && !!b && a.kname === b.kname;
}

/**
 * The command line checked against the host: root= names the root
 * filesystem (and rootflags= its btrfs subvolume), every LUKS container of
 * the root stack is unlocked by rd.luks.* or the initrd's crypttab, resume=
 * names the swap the host hibernates to. `initrdCrypttab` is the embedded
 * initrd's /etc/crypttab.
 */
export function cmdlineChecks(options: readonly string[], report: HostReport, graph: BlockGraph | null, initrdCrypttab: string | null): ImageCheck[] {
  const checks: ImageCheck[] = [];
  const root = report.mounts.find((m) => m.role === 'root');
  if (root) {
    const value = cmdlineValue(options, 'root');
    const host = lookup(graph, root.source) ?? (graph ? deviceByName(graph, root.source.replace(/^\/dev\/mapper\//, '')) : null);
    const hostName = `${root.source}${host?.uuid ? ` (UUID=${host.uuid})` : ''}`;
    if (!value) checks.push({ id: 'cmdline-root', ok: false, detail: `no root= on the command line: the initrd could only find / by GPT partition auto-discovery, while the host's root is ${hostName}` });
    else if (!graph && !sameDevice(null, value, root.source))
      // Without lsblk a UUID= cannot be told from another: say so rather than fail an image that may well be right.
      checks.push({ id: 'cmdline-root', ok: true, detail: `root=${value} not compared with the host's root ${root.source}: no block device list to resolve it` });
    else {
      const named = lookup(graph, value);
      const ok = sameDevice(graph, value, root.source) || (!!named && !!host && named.kname === host.kname);
      checks.push({
        id: 'cmdline-root',
        ok,
        detail: ok ? `root=${value} is the host's root ${hostName}` : `root=${value} ${named ? `is ${named.path ?? named.name}` : 'names no device of the host'}, but / is on ${hostName}`,
      });
    }
    if (root.fstype === 'btrfs' && root.subvolume && root.subvolume !== '/') {
      const flags = (cmdlineValue(options, 'rootflags') ?? '').split(',');
      const want = root.subvolume.replace(/^\/+/, '');
      const ok = flags.some((f) => /^subvol=/.test(f) && f.slice(7).replace(/^\/+/, '') === want) || flags.some((f) => /^subvolid=/.test(f));
      checks.push({ id: 'cmdline-rootflags', ok, detail: ok ? `rootflags= selects the subvolume /${want}` : `/ is the btrfs subvolume /${want}, but rootflags= ${flags.join(',') ? `says ${flags.join(',')}` : 'is not on the command line'}: the initrd would mount the default subvolume` });
    }
  }
  const luks = report.features.includes('luks') ? luksVolumes(report, graph) : [];
  if (luks.length) {
    const off = cmdlineValue(options, 'rd.luks') ?? cmdlineValue(options, 'luks');
    const uuids = luksOpened(options);
    const tab = (initrdCrypttab ?? '').split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2 && !f[0]!.startsWith('#'));
    const uncovered = luks.filter((v) => {
      if (v.uuid && uuids.has(v.uuid)) return false;
      return !tab.some(([name, dev]) => name === v.name || (v.uuid !== null && luksId(dev!) === v.uuid));
    });
    const listed = [...uuids].length ? `rd.luks.uuid/name ${[...uuids].join(', ')}` : 'no rd.luks.uuid=/rd.luks.name=';
    checks.push(
      off && /^(0|no|false)$/.test(off)
        ? { id: 'cmdline-luks', ok: false, detail: `rd.luks=${off} turns off unlocking in the initrd, but / is on LUKS (${luks.map((v) => v.name).join(', ')})` }
        : uncovered.length
          ? { id: 'cmdline-luks', ok: false, detail: `nothing unlocks ${uncovered.map((v) => `${v.name}${v.uuid ? ` (LUKS UUID ${v.uuid})` : ''}`).join(', ')}: ${listed} on the command line, ${initrdCrypttab === null ? 'no crypttab' : 'no line for it in the crypttab'} in the initrd` }
          : { id: 'cmdline-luks', ok: true, detail: `${luks.map((v) => v.name).join(', ')} unlocked through ${luks.map((v) => (v.uuid && uuids.has(v.uuid) ? 'rd.luks.*' : "the initrd's crypttab")).filter((x, i, a) => a.indexOf(x) === i).join(' and ')}${options.some((o) => o.startsWith('rd.luks.options=')) ? ` (${options.filter((o) => o.startsWith('rd.luks.options=')).join(' ')})` : ''}` },
    );
  }
  if (report.resume?.usable) {
    const value = cmdlineValue(options, 'resume');
    const ok = !!value && sameDevice(graph, value, report.resume.device);
    checks.push({
      id: 'cmdline-resume',
      ok,
      detail: ok
        ? `resume=${value} is the swap the host hibernates to (${report.resume.device})`
        : value
          ? `resume=${value} is not the swap the host hibernates to (${report.resume.device}, from ${report.resume.source})`
          : `the host hibernates to ${report.resume.device} (from ${report.resume.source}), but the command line has no resume=: the initrd would not resume`,
    });
  }
  return checks;
}

/**
 * A UKI carries its command line: crypttab lines the initrd lacks are still
 * honoured when rd.luks.uuid=/rd.luks.name= open that device and
 * rd.luks.options= give it every option that matters (systemd-cryptsetup-
 * generator applies them). Returns the luks-crypttab check re-judged, or the
 * check unchanged.
 */
export function crypttabThroughCmdline(check: ImageCheck, options: readonly string[], report: HostReport, initrdCrypttab: string | null): ImageCheck {
  if (check.id !== 'luks-crypttab' || check.ok) return check;
  const opened = luksOpened(options);
  const perUuid = new Map<string, string[]>();
  let global: string[] = [];
  for (const o of options.filter((x) => x.startsWith('rd.luks.options='))) {
    const v = o.slice(16);
    const m = /^((?:luks-)?[0-9a-fA-F-]{36})=(.*)$/.exec(v);
    if (m) perUuid.set(luksId(m[1]!), m[2]!.split(','));
    else global = v.split(',');
  }
  const tab = initrdCrypttab ?? '';
  const missing = report.crypttab.filter((c) => !tab.split('\n').some((l) => l.trim().split(/\s+/)[0] === c.name));
  const uncovered = missing.filter((c) => {
    const uuid = /^UUID=(.*)$/i.exec(c.device)?.[1]?.toLowerCase() ?? /^luks-([0-9a-f-]{36})$/i.exec(c.name)?.[1]?.toLowerCase();
    if (!uuid || !opened.has(uuid)) return true;
    const given = perUuid.get(uuid) ?? global;
    return !c.options.filter((o) => !PLAIN_CRYPTTAB_OPTION.test(o)).every((o) => given.includes(o));
  });
  if (uncovered.length) return check;
  return { ...check, ok: true, detail: `${missing.map((c) => `${c.name} (${c.options.join(',')})`).join('; ')} not in the image's crypttab, but the UKI's command line opens ${missing.length > 1 ? 'them' : 'it'} with the same options (rd.luks.uuid/name + rd.luks.options)` };
}
