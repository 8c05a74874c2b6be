/**
 * Snapshot → HostReport. Starts from the mounts the initrd must bring up (/,
 * /usr, x-initrd.mount entries, the resume swap) and walks down the block
 * graph to the disks, recognising each layer. Pure: reads only the snapshot.
 */
import { InputError } from '../errors.js';
import type { Snapshot } from './snapshot.js';
import { findDevice, parseLsblk, type BlockDevice, type BlockGraph } from './parse/lsblk.js';
import { mountAt, parseFindmnt, splitSource, type Mount } from './parse/findmnt.js';
import { parseCrypttab, parseFstab, parseSwaps, type CrypttabEntry, type FstabEntry } from './parse/tabfile.js';
import { cmdlineHas, cmdlineValue, parseCmdline, type Cmdline } from './parse/cmdline.js';
import { parseMdadmScan, parseMdstat, type MdArray, type MdstatArray } from './parse/mdadm.js';
import { parseLvmReport, type LvmReport } from './parse/lvm.js';
import { parseDmsetupInfo, parseDmsetupTable } from './parse/dmsetup.js';
import { parseLuks2Json, parseLuksDumpText, type LuksHeader } from './parse/luks.js';
import { parseKeyValue } from './parse/keyvalue.js';
import { unsupportedFinding } from './unsupported.js';
import {
  FEATURES,
  type CrypttabNeed,
  type Feature,
  type HostReport,
  type MountReport,
  type MountRole,
  type StorageDevice,
  type UnsupportedFinding,
  type UnsupportedId,
} from './report.js';

const NETWORK_FS = new Set(['nfs', 'nfs4']);
const RAID_TYPES = /^(raid\d+|linear|md)$/;

/** Everything parsed from a snapshot, with warnings that name the file. */
interface Facts {
  graph: BlockGraph;
  mounts: Mount[] | null;
  fstab: FstabEntry[];
  crypttab: CrypttabEntry[];
  swaps: string[];
  cmdline: Cmdline;
  kernelCmdline: Cmdline;
  sysPowerResume: string | null;
  mdArrays: MdArray[];
  mdstat: MdstatArray[];
  lvm: LvmReport | null;
  dmUuid: Map<string, string | null>;
  dmTargets: Map<string, string[]>;
  luks: Map<string, LuksHeader>;
  sysBlock: Map<string, Map<string, string>>;
  osRelease: Map<string, string>;
  vconsole: Map<string, string>;
  warnings: string[];
}

function gather(snapshot: Snapshot): Facts {
  const warnings: string[] = [...snapshot.warnings];
  const where = snapshot.dir ? `${snapshot.dir}/` : '';
  const file = (name: string) => snapshot.files.get(name);
  const take = <T>(name: string, r: { ok: true; value: T; warnings: string[] } | { ok: false; error: string }, fallback: T): T => {
    if (!r.ok) {
      warnings.push(`${where}${name}: ${r.error}; ignored`);
      return fallback;
    }
    for (const w of r.warnings) warnings.push(w.startsWith(name) ? `${where}${w}` : `${where}${name}: ${w}`);
    return r.value;
  };

  const lsblkText = file('lsblk.json');
  if (lsblkText === undefined) {
    const why = snapshot.errors.find((e) => e.probe === 'lsblk.json');
    throw new InputError(
      `${where}lsblk.json is missing${why ? ` (${why.command}: ${why.stderr || `exit ${why.exitCode}`})` : ''}: cannot see the block devices`,
      'capture the snapshot again with util-linux installed: `initrd-wizard snapshot --output DIR`',
    );
  }
  const lsblk = parseLsblk(lsblkText);
  if (!lsblk.ok) {
    throw new InputError(`${where}lsblk.json: ${lsblk.error}`, 'capture the snapshot again (`initrd-wizard snapshot`); the file must hold the output of `lsblk --json --bytes --output-all`');
  }
  for (const w of lsblk.warnings) warnings.push(`${where}lsblk.json: ${w}`);

  let mounts: Mount[] | null = null;
  const findmntText = file('findmnt.json');
  if (findmntText !== undefined) {
    const r = parseFindmnt(findmntText);
    if (r.ok) mounts = r.value;
    else warnings.push(`${where}findmnt.json: ${r.error}; using fstab for the mount list`);
  }

  const dmUuid = new Map<string, string | null>();
  const dmTargets = new Map<string, string[]>();
  const info = file('dmsetup-info');
  if (info !== undefined) for (const [name, d] of take('dmsetup-info', parseDmsetupInfo(info), new Map())) dmUuid.set(name, d.uuid);
  const table = file('dmsetup-table');
  if (table !== undefined) for (const [name, t] of take('dmsetup-table', parseDmsetupTable(table), new Map())) dmTargets.set(name, t);

  const sysBlock = new Map<string, Map<string, string>>();
  const luks = new Map<string, LuksHeader>();
  for (const [name, content] of snapshot.files) {
    if (name.startsWith('sys-block/')) {
      const kv = parseKeyValue(content);
      const kname = name.slice('sys-block/'.length);
      sysBlock.set(kname, kv);
      const uuid = kv.get('dm_uuid');
      const dmName = kv.get('dm_name');
      if (dmName && uuid !== undefined && !dmUuid.has(dmName)) dmUuid.set(dmName, uuid || null);
    } else if (name.startsWith('luks/')) {
      const m = /^luks\/(.+)\.(json|txt)$/.exec(name);
      if (!m?.[1]) continue;
      const header = take(name, m[2] === 'json' ? parseLuks2Json(content) : parseLuksDumpText(content), null);
      if (header) luks.set(m[1], header);
    }
  }

  const text = (name: string) => file(name) ?? '';
  return {
    graph: lsblk.value,
    mounts,
    fstab: take('fstab', parseFstab(text('fstab')), []),
    crypttab: take('crypttab', parseCrypttab(text('crypttab')), []),
    swaps: take('swaps', parseSwaps(text('swaps')), []).map((s) => s.filename),
    cmdline: parseCmdline(text('cmdline')),
    kernelCmdline: parseCmdline(text('kernel-cmdline')),
    sysPowerResume: file('sys-power-resume')?.trim() ?? null,
    mdArrays: [
      ...take('mdadm-detail-scan', parseMdadmScan(text('mdadm-detail-scan')), []),
      ...take('mdadm.conf', parseMdadmScan(text('mdadm.conf'), 'mdadm.conf'), []),
    ],
    mdstat: take('mdstat', parseMdstat(text('mdstat')), []),
    lvm: file('lvm-fullreport.json') !== undefined ? take('lvm-fullreport.json', parseLvmReport(text('lvm-fullreport.json')), null) : null,
    dmUuid,
    dmTargets,
    luks,
    sysBlock,
    osRelease: parseKeyValue(text('os-release')),
    vconsole: parseKeyValue(text('vconsole.conf')),
    warnings,
  };
}

/** Collects features with reasons and unsupported findings, de-duplicated. */
class Findings {
  features = new Map<Feature, string[]>();
  unsupported = new Map<string, UnsupportedFinding>();
  warnings: string[] = [];
  feature(f: Feature, reason: string) {
    const reasons = this.features.get(f) ?? [];
    if (!reasons.includes(reason)) reasons.push(reason);
    this.features.set(f, reasons);
  }
  unsupportedAt(id: UnsupportedId, device: string, detail?: string) {
    const key = `${id}\0${device}`;
    if (!this.unsupported.has(key)) this.unsupported.set(key, unsupportedFinding(id, device, detail));
  }
  warn(w: string) {
    if (!this.warnings.includes(w)) this.warnings.push(w);
  }
}

/** The device lsblk calls `name` (chains are lists of names). */
function deviceNamed(facts: Facts, name: string): BlockDevice | undefined {
  for (const d of facts.graph.devices.values()) if (d.name === name) return d;
  return undefined;
}

function isDm(dev: BlockDevice, facts: Facts): boolean {
  // The dm major number is allocated dynamically (253, 254 …): go by kernel name.
  return /^dm-\d+$/.test(dev.kname) || (facts.dmUuid.has(dev.name) && dev.type !== 'disk' && dev.type !== 'part');
}

function dmUuidOf(dev: BlockDevice, facts: Facts): string | null {
  return facts.dmUuid.get(dev.name) ?? facts.sysBlock.get(dev.kname)?.get('dm_uuid') ?? null;
}

/** The crypttab line for a mapped device: by mapping name, else by the underlying device. */
function crypttabFor(dev: BlockDevice, lower: BlockDevice | undefined, facts: Facts): CrypttabEntry | undefined {
  return (
    facts.crypttab.find((e) => e.name === dev.name) ??
    (lower ? facts.crypttab.find((e) => findDevice(facts.graph, e.device)?.kname === lower.kname) : undefined)
  );
}

const RANDOM_KEYS = new Set(['/dev/urandom', '/dev/random', '/dev/hw_random']);

function isRandomKeySwap(e: CrypttabEntry): boolean {
  return e.options.has('swap') || e.options.has('tmp') || (e.keyFile !== null && RANDOM_KEYS.has(e.keyFile));
}

interface WalkState {
  findings: Findings;
  facts: Facts;
  devices: Map<string, StorageDevice>;
  crypttab: Map<string, CrypttabNeed>;
  diskDrivers: Set<string>;
}

/** Recognises one device, records what it needs, and returns its role description. */
function classify(dev: BlockDevice, st: WalkState): string {
  const { facts, findings } = st;
  const label = dev.name;
  const type = dev.type ?? '';
  const uuid = dmUuidOf(dev, facts);
  const targets = facts.dmTargets.get(dev.name) ?? [];
  const parents = dev.parents.map((p) => facts.graph.devices.get(p)).filter((p): p is BlockDevice => !!p);
  const sys = facts.sysBlock.get(dev.kname);
  const fstype = dev.fstype ?? '';

  // Transports that need network or vendor tooling before the disk even exists.
  // The disk carries the finding; its partitions belong to it.
  const transport = (id: UnsupportedId, detail?: string) => {
    if (!parents.some((p) => findings.unsupported.has(`${id}\0${p.name}`))) findings.unsupportedAt(id, label, detail);
  };
  const tran = (dev.tran ?? '').toLowerCase();
  const devpath = sys?.get('devpath') ?? '';
  if (tran === 'iscsi' || sys?.get('iscsi_session') === '1' || /\/session\d+\/.*iscsi|iscsi_host|\/session\d+\/target/.test(devpath)) transport('iscsi');
  if (tran === 'fcoe' || /fcoe/.test(devpath)) transport('fcoe');
  const nvmeTransport = sys?.get('transport') ?? (/^nvme/.test(dev.kname) ? tran : '');
  if (/^nvme/.test(dev.kname) && (/^(tcp|rdma|fc|loop)$/.test(nvmeTransport) || /nvme-fabrics/.test(devpath))) {
    transport('nvme-of', nvmeTransport ? `transport ${nvmeTransport}` : undefined);
  }
  if (/^nbd\d+/.test(dev.kname) || dev.majMin?.startsWith('43:')) transport('nbd');
  // The bcacheN device carries the finding; its backing and cache members (FSTYPE bcache) belong to it.
  if (/^bcache\d+/.test(dev.kname) || (fstype === 'bcache' && !dev.children.some((c) => /^bcache\d+/.test(c)))) findings.unsupportedAt('bcache', label);
  if (fstype === 'zfs' || fstype === 'zfs_member') findings.unsupportedAt('zfs', label);

  if ((type === 'disk' || type === 'part' || type === 'loop') && !isDm(dev, facts)) {
    if (type === 'disk' && !isDm(dev, facts)) noteDiskDriver(dev, st);
    return type === 'part' ? 'partition' : type === 'loop' ? 'loop device' : 'disk';
  }

  // Software RAID (md), including firmware RAID containers driven by mdadm.
  if (RAID_TYPES.test(type) || /^md\d+/.test(dev.kname) || /^md\//.test(dev.name)) {
    const stat = facts.mdstat.find((a) => a.name === dev.kname);
    const arr = facts.mdArrays.find((a) => a.device === `/dev/${dev.kname}` || a.device === dev.path || a.device.endsWith(`/${dev.name}`));
    const level = type && type !== 'md' ? type : stat?.level ?? 'md';
    const external = stat?.external ?? (arr?.container ? 'container' : null) ?? arr?.metadata;
    const firmware = /imsm|ddf/.test(external ?? '') || parents.some((p) => /^(isw|ddf)_raid_member$/.test(p.fstype ?? ''));
    findings.feature('raid', `${label}: md ${level} over ${parents.map((p) => p.name).join(', ') || 'its members'}${firmware ? ' (firmware RAID metadata, assembled by mdadm)' : ''}`);
    return `md RAID (${level}${firmware ? ', IMSM/DDF' : ''})`;
  }

  if (!isDm(dev, facts)) return type || 'device';

  // Device-mapper: the uuid prefix says who made it; the table says what it does.
  if (/^stratis-/.test(dev.name) || /^stratis/.test(uuid ?? '')) {
    findings.unsupportedAt('stratis', label);
    return 'Stratis';
  }
  if (uuid?.startsWith('CRYPT-')) return classifyCrypt(dev, uuid, parents, st);
  if (type === 'crypt' && !uuid) {
    // No uuid visible (captured as a normal user): trust lsblk and the header below.
    return classifyCrypt(dev, parents[0]?.fstype === 'crypto_LUKS' ? `CRYPT-LUKS` : 'CRYPT-UNKNOWN', parents, st);
  }
  if (uuid?.startsWith('LVM-') || type === 'lvm') {
    const lv = facts.lvm?.lvs.find((l) => `${l.vg.replace(/-/g, '--')}-${l.name.replace(/-/g, '--')}` === dev.name);
    const thin = targets.some((t) => t === 'thin' || t === 'thin-pool') || /-(tpool|tdata|tmeta)$/.test(uuid ?? '') || /thin/.test(lv?.layout ?? '');
    const pretty = lv ? `${lv.vg}/${lv.name}` : dev.name;
    findings.feature('lvm', `${label}: LVM logical volume ${pretty}`);
    if (thin) findings.feature('lvm-thin', `${label}: part of an LVM thin pool (needs thin_check from the thin-provisioning tools)`);
    if (targets.includes('cache') || /cache/.test(lv?.layout ?? '')) findings.warn(`${label}: LVM cache volume: the initrd needs dm-cache modules and cache_check`);
    if (targets.includes('raid') || /^raid/.test(lv?.layout ?? '')) findings.warn(`${label}: LVM RAID volume: the initrd needs the dm-raid module`);
    return thin ? `LVM thin (${pretty})` : `LVM (${pretty})`;
  }
  if (/^part\d+-mpath-/.test(uuid ?? '') || (type === 'part' && parents.some((p) => findings.unsupported.has(`multipath\0${p.name}`)))) {
    // A kpartx partition of a multipath map: the map itself carries the finding.
    if (!parents.some((p) => findings.unsupported.has(`multipath\0${p.name}`))) findings.unsupportedAt('multipath', label);
    return 'partition of a multipath map';
  }
  if (uuid?.startsWith('mpath-') || type === 'mpath' || parents.some((p) => p.fstype === 'mpath_member') || targets.includes('multipath')) {
    findings.unsupportedAt('multipath', label);
    return 'multipath map';
  }
  if (uuid?.startsWith('DMRAID-') || type === 'dmraid' || parents.some((p) => /_raid_member$/.test(p.fstype ?? '') && p.fstype !== 'linux_raid_member')) {
    findings.unsupportedAt('dmraid', label);
    return 'dmraid set';
  }
  findings.unsupportedAt('unknown-dm', label, uuid ? `dm uuid ${uuid}${targets.length ? `, target ${targets.join('+')}` : ''}` : `no dm uuid${targets.length ? `, target ${targets.join('+')}` : ''}`);
  return `device-mapper (${targets.join('+') || 'unknown'})`;
}

function classifyCrypt(dev: BlockDevice, uuid: string, parents: BlockDevice[], st: WalkState): string {
  const { facts, findings } = st;
  const label = dev.name;
  const lower = parents[0];
  const kind = /^CRYPT-([A-Z0-9]+)/.exec(uuid)?.[1] ?? 'UNKNOWN';
  const entry = crypttabFor(dev, lower, facts);
  if (kind === 'INTEGRITY') {
    findings.feature('integrity', `${label}: dm-integrity volume`);
    return 'dm-integrity';
  }
  if (kind === 'VERITY') {
    findings.feature('verity', `${label}: dm-verity volume`);
    return 'dm-verity';
  }
  if (kind === 'SUBDEV') {
    // The _dif helper device of LUKS2 with authenticated encryption.
    findings.feature('integrity', `${label}: integrity layer of an authenticated LUKS2 volume`);
    return 'LUKS2 integrity layer';
  }
  if (kind === 'PLAIN') {
    findings.unsupportedAt('plain-dm-crypt', label);
    return 'plain dm-crypt';
  }
  if (kind === 'BITLK' || kind === 'TCRYPT') {
    findings.unsupportedAt('unknown-dm', label, `${kind === 'BITLK' ? 'BitLocker' : 'TrueCrypt/VeraCrypt'} volume opened by cryptsetup`);
    return kind === 'BITLK' ? 'BitLocker' : 'TrueCrypt';
  }
  if (kind.startsWith('LUKS')) {
    const headerHere = lower?.fstype === 'crypto_LUKS' || (lower ? facts.luks.has(lower.kname) : false);
    const detachedByCrypttab = entry?.options.has('header') ?? false;
    // FSTYPE comes from the udev database; when no device has one, udev was not running and a missing header proves nothing.
    const fstypesKnown = [...facts.graph.devices.values()].some((d) => d.fstype);
    if (!headerHere && (detachedByCrypttab || fstypesKnown)) {
      // Still LUKS, and still needing cryptsetup and dm-crypt: the header's location is what cannot be carried.
      findings.feature('luks', `${label}: LUKS with a detached header over ${lower?.name ?? '?'}`);
      findings.unsupportedAt('luks-detached-header', label, detachedByCrypttab ? `crypttab header=${String(entry!.options.get('header'))}` : `${lower?.name ?? 'the lower device'} has no LUKS header`);
      return 'LUKS (detached header)';
    }
    const header = lower ? facts.luks.get(lower.kname) : undefined;
    const version = header?.version ?? (/^CRYPT-LUKS1/.test(uuid) ? 1 : /^CRYPT-LUKS2/.test(uuid) ? 2 : lower?.fsver === '1' ? 1 : 2);
    findings.feature('luks', `${label}: LUKS${version} on ${lower?.name ?? '?'}`);
    const tokens = header?.tokens ?? [];
    if (lower && !header && headerHere) {
      findings.warn(`${lower.name}: LUKS header not in the snapshot (luksDump needs root): TPM2/FIDO2/PKCS#11 tokens could not be checked`);
    }
    const unlock = (feature: Feature, how: string) => findings.feature(feature, `${label}: ${how}`);
    if (tokens.includes('systemd-tpm2')) unlock('tpm2', 'LUKS2 token systemd-tpm2 (TPM2 unlock)');
    if (tokens.includes('systemd-fido2')) unlock('fido2', 'LUKS2 token systemd-fido2 (FIDO2 unlock)');
    if (tokens.includes('systemd-pkcs11')) unlock('pkcs11', 'LUKS2 token systemd-pkcs11 (smart card unlock)');
    if (tokens.some((t) => t.startsWith('clevis'))) {
      findings.warn(`${lower?.name ?? label}: clevis token: mkosi-initrd has no clevis support; unlocking will fall back to the passphrase unless clevis packages are added`);
    }
    if (header?.integrity) findings.feature('integrity', `${label}: LUKS2 with authenticated encryption (dm-integrity)`);
    if (entry) {
      if (entry.options.has('tpm2-device')) unlock('tpm2', `crypttab ${entry.name}: tpm2-device=${String(entry.options.get('tpm2-device'))}`);
      if (entry.options.has('fido2-device')) unlock('fido2', `crypttab ${entry.name}: fido2-device=${String(entry.options.get('fido2-device'))}`);
      if (entry.options.has('pkcs11-uri')) unlock('pkcs11', `crypttab ${entry.name}: pkcs11-uri`);
      if (entry.keyFile && /:/.test(entry.keyFile)) {
        findings.warn(`crypttab ${entry.name}: key file ${entry.keyFile} lives on another device; the initrd must be able to reach that device before unlocking`);
      } else if (entry.keyFile && !RANDOM_KEYS.has(entry.keyFile)) {
        findings.warn(`crypttab ${entry.name}: key file ${entry.keyFile} will be copied into the initrd (mkosi-initrd copies key files of x-initrd.attach lines); keep the initrd readable by root only`);
      }
    }
    return `LUKS${version}${tokens.length ? ` (tokens: ${tokens.join(', ')})` : ''}`;
  }
  findings.unsupportedAt('unknown-dm', label, `dm-crypt of unknown type (${uuid})`);
  return 'dm-crypt';
}

const DRIVER_BY_TRAN: Record<string, string> = { nvme: 'nvme', sata: 'ahci', ata: 'ahci', usb: 'usb_storage', virtio: 'virtio_blk', mmc: 'mmc_block' };

function noteDiskDriver(dev: BlockDevice, st: WalkState) {
  const tran = (dev.tran ?? '').toLowerCase();
  const devpath = st.facts.sysBlock.get(dev.kname)?.get('devpath') ?? '';
  let driver = DRIVER_BY_TRAN[tran];
  if (!driver) {
    if (/^vd[a-z]+$/.test(dev.kname) || /\/virtio\d+\/block\//.test(devpath)) driver = 'virtio_blk';
    else if (/^nvme/.test(dev.kname)) driver = 'nvme';
    else if (/^mmcblk/.test(dev.kname)) driver = 'mmc_block';
    else if (/^xvd/.test(dev.kname)) driver = 'xen_blkfront';
    else if (/\/virtio\d+\/host\d+\//.test(devpath)) driver = 'virtio_scsi';
    else if (/\/ata\d+\//.test(devpath)) driver = 'ahci';
  }
  if (driver) st.diskDrivers.add(driver);
}

/** Devices from the physical layer up to `top`, each once, lowest first. */
function walkDown(top: BlockDevice, st: WalkState): { chain: string[]; disks: string[] } {
  const graph = st.facts.graph;
  const order: BlockDevice[] = [];
  const seen = new Set<string>();
  const visit = (d: BlockDevice, depth: number) => {
    if (seen.has(d.kname) || depth > 64) return;
    seen.add(d.kname);
    for (const p of d.parents) {
      const parent = graph.devices.get(p);
      if (parent) visit(parent, depth + 1);
    }
    order.push(d);
  };
  visit(top, 0);
  for (const d of order) {
    if (st.devices.has(d.kname)) continue;
    st.devices.set(d.kname, {
      kname: d.kname,
      name: d.name,
      path: d.path,
      type: d.type ?? 'unknown',
      fstype: d.fstype,
      size: d.size,
      role: classify(d, st),
      parents: [...d.parents],
      transport: d.tran,
    });
  }
  // Whole disks that only carry the partitions in the chain are not part of the stack itself.
  const disks = order.filter((d) => (d.type === 'disk' || d.type === 'loop') && d.parents.length === 0).map((d) => d.name);
  const chain = order.filter((d) => !((d.type === 'disk' || d.type === 'loop') && d.parents.length === 0 && d.children.some((c) => seen.has(c) && graph.devices.get(c)?.type === 'part')));
  return { chain: chain.map((d) => d.name), disks };
}

interface NeededMount {
  target: string;
  role: MountRole;
  source: string;
  fstype: string;
  subvolume: string | null;
  majMin?: string | null;
}

function neededMounts(facts: Facts): NeededMount[] {
  const out: NeededMount[] = [];
  const fromFstab = (target: string) => facts.fstab.find((e) => e.file === target);
  const add = (target: string, role: MountRole) => {
    const live = facts.mounts ? mountAt(facts.mounts, target) : null;
    if (live) {
      const subvol = live.fstype === 'btrfs' && live.fsroot && live.fsroot !== '/' ? live.fsroot : null;
      out.push({ target, role, source: live.source, fstype: live.fstype, subvolume: subvol, majMin: live.majMin });
      return true;
    }
    const tab = fromFstab(target);
    if (tab) {
      const subvolOpt = tab.options.find((o) => o.startsWith('subvol='));
      out.push({ target, role, source: tab.spec, fstype: tab.vfstype, subvolume: subvolOpt ? subvolOpt.slice('subvol='.length) : null });
      return true;
    }
    return false;
  };
  if (!add('/', 'root')) {
    throw new InputError(
      'cannot tell what / is mounted from: findmnt.json has no "/" and fstab has no "/" entry',
      'capture the snapshot again on the running system (`initrd-wizard snapshot`)',
    );
  }
  if (facts.mounts ? mountAt(facts.mounts, '/usr') : fromFstab('/usr')) add('/usr', 'usr');
  for (const e of facts.fstab) {
    if (e.options.includes('x-initrd.mount') && e.file !== '/' && e.file !== '/usr' && !out.some((m) => m.target === e.file)) {
      add(e.file, 'x-initrd');
    }
  }
  return out;
}

/** The resume device: resume= on the running or installed command line, else /sys/power/resume. */
function resumeSpec(facts: Facts): { spec: string; from: string } | null {
  const running = cmdlineValue(facts.cmdline, 'resume');
  if (running && running !== 'none') return { spec: running, from: 'resume= on /proc/cmdline' };
  const installed = cmdlineValue(facts.kernelCmdline, 'resume');
  if (installed && installed !== 'none') return { spec: installed, from: 'resume= in /etc/kernel/cmdline' };
  const sys = facts.sysPowerResume;
  if (sys && /^\d+:\d+$/.test(sys) && sys !== '0:0') return { spec: sys, from: `/sys/power/resume (${sys})` };
  return null;
}

function osInfo(snapshot: Snapshot, facts: Facts): HostReport['host'] {
  const os = facts.osRelease;
  return {
    os: os.get('ID') ?? 'linux',
    osVersion: os.get('VERSION_ID') ?? '',
    prettyName: os.get('PRETTY_NAME') ?? os.get('NAME') ?? 'Linux',
    idLike: (os.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean),
    kernel: snapshot.meta.kernel,
    arch: snapshot.meta.arch,
  };
}

export function analyze(snapshot: Snapshot): HostReport {
  const facts = gather(snapshot);
  const findings = new Findings();
  const st: WalkState = { findings, facts, devices: new Map(), crypttab: new Map(), diskDrivers: new Set() };
  const mounts: MountReport[] = [];

  const walkMount = (m: NeededMount): MountReport => {
    const report: MountReport = { target: m.target, role: m.role, source: m.source, fstype: m.fstype, chain: [], disks: [], subvolume: m.subvolume };
    if (NETWORK_FS.has(m.fstype)) {
      findings.feature('nfs', `${m.target}: NFS mount of ${m.source}`);
      findings.feature('network', `${m.target} is on NFS: the initrd must bring the network up`);
      return report;
    }
    if (m.fstype === 'cifs' || m.fstype === 'smb3') {
      findings.unsupportedAt('cifs', m.source);
      return report;
    }
    if (m.fstype === 'zfs') {
      findings.unsupportedAt('zfs', m.source);
      return report;
    }
    // "/dev/root" and other aliases are not in lsblk; the device number is (except on btrfs, whose st_dev is anonymous).
    const dev =
      findDevice(facts.graph, splitSource(m.source).source) ??
      (m.majMin && m.fstype !== 'btrfs' ? findDevice(facts.graph, m.majMin) : null);
    if (!dev) {
      findings.warn(`${m.target}: source ${m.source} (${m.fstype || 'unknown type'}) is not a block device in lsblk.json; its storage stack is unknown`);
      return report;
    }
    const tops = [dev];
    if (m.fstype === 'btrfs' && dev.uuid) {
      // A multi-device btrfs shows one source; every member must be present to mount it.
      for (const d of facts.graph.devices.values()) if (d.uuid === dev.uuid && d.kname !== dev.kname && d.fstype === 'btrfs') tops.push(d);
      findings.feature('btrfs', `${m.target}: btrfs on ${tops.map((d) => d.name).join(', ')}${m.subvolume ? ` (subvolume ${m.subvolume})` : ''}`);
      if (tops.length > 1) findings.warn(`${m.target}: multi-device btrfs over ${tops.map((d) => d.name).join(', ')}: every member must be unlocked/assembled in the initrd`);
    }
    for (const top of tops) {
      const { chain, disks } = walkDown(top, st);
      for (const c of chain) if (!report.chain.includes(c)) report.chain.push(c);
      for (const d of disks) if (!report.disks.includes(d)) report.disks.push(d);
      // "plain" is about filesystems; a swap partition straight on a disk does not make a host plain.
      // Plain means nothing between the filesystem and a local disk: no device-mapper, nothing unsupported.
      const flagged = [...findings.unsupported.values()].some((u) => chain.includes(u.device) || disks.includes(u.device));
      const onlyDisks = chain.every((name) => {
        const d = deviceNamed(facts, name);
        return !!d && !isDm(d, facts) && (d.type === 'part' || d.type === 'disk' || d.type === 'loop');
      });
      if (m.role !== 'resume' && !flagged && onlyDisks) {
        findings.feature('plain', `${m.target}: ${m.fstype || top.fstype || 'filesystem'} directly on ${top.name}`);
      }
    }
    // Record crypttab lines the initrd needs, and whether mkosi-initrd will carry them.
    for (const name of report.chain) {
      const d = deviceNamed(facts, name);
      if (!d || !(dmUuidOf(d, facts)?.startsWith('CRYPT-') || d.type === 'crypt')) continue;
      const lower = d.parents[0] ? facts.graph.devices.get(d.parents[0]) : undefined;
      const entry = crypttabFor(d, lower, facts);
      if (entry && !st.crypttab.has(entry.name)) {
        const opts = [...entry.options.entries()].map(([k, v]) => (v === true ? k : `${k}=${v}`));
        st.crypttab.set(entry.name, { name: entry.name, device: entry.device, initrdAttach: entry.options.has('x-initrd.attach'), options: opts });
      }
    }
    return report;
  };

  for (const m of neededMounts(facts)) mounts.push(walkMount(m));

  let resume: HostReport['resume'] = null;
  const spec = resumeSpec(facts);
  if (spec) {
    const dev = findDevice(facts.graph, spec.spec);
    if (!dev) {
      findings.warn(`hibernation: ${spec.from} names ${spec.spec}, which is not a block device in the snapshot; resume will fail`);
    } else {
      // A swap whose key is random per boot is re-created at every boot: nothing to resume from.
      let randomKey: CrypttabEntry | undefined;
      const seen = new Set<string>();
      const check = (d: BlockDevice) => {
        if (seen.has(d.kname)) return;
        seen.add(d.kname);
        const lower = d.parents[0] ? facts.graph.devices.get(d.parents[0]) : undefined;
        const e = d.type === 'crypt' || dmUuidOf(d, facts)?.startsWith('CRYPT-') ? crypttabFor(d, lower, facts) : undefined;
        if (e && isRandomKeySwap(e)) randomKey = e;
        for (const p of d.parents) {
          const pd = facts.graph.devices.get(p);
          if (pd) check(pd);
        }
      };
      check(dev);
      const isSwap = dev.fstype === 'swap' || facts.swaps.some((s) => findDevice(facts.graph, s)?.kname === dev.kname) || cmdlineHas(facts.cmdline, 'resume_offset');
      if (randomKey) {
        findings.warn(
          `hibernation: the resume device ${dev.name} is swap encrypted with a random key (crypttab ${randomKey.name}: ${randomKey.keyFile ?? ''}${randomKey.options.has('swap') ? ' swap' : ''}); its contents are gone at every boot, so resume cannot work. Use a LUKS swap with a passphrase, TPM2 or a swap LV on the encrypted VG instead`,
        );
        resume = { device: dev.name, source: spec.from, usable: false };
      } else {
        if (!isSwap) findings.warn(`hibernation: ${spec.from} names ${dev.name}, which is not an active swap device`);
        const report = walkMount({ target: 'swap', role: 'resume', source: dev.path ?? `/dev/${dev.kname}`, fstype: dev.fstype ?? 'swap', subvolume: null });
        mounts.push(report);
        findings.feature('hibernate', `${spec.from} → ${dev.name}`);
        resume = { device: dev.name, source: spec.from, usable: true };
      }
    }
  }

  // A verity-protected root/usr is announced on the command line (roothash=/usrhash=).
  for (const key of ['roothash', 'usrhash'] as const) {
    if (cmdlineValue(facts.cmdline, key) ?? cmdlineValue(facts.kernelCmdline, key)) findings.feature('verity', `${key}= on the kernel command line`);
  }
  if (cmdlineHas(facts.cmdline, 'ip') || cmdlineValue(facts.cmdline, 'rd.neednet') === '1') {
    findings.feature('network', 'ip=/rd.neednet=1 on the kernel command line');
  }
  for (const need of st.crypttab.values()) {
    if (!need.initrdAttach) {
      findings.warn(`crypttab ${need.name}: the initrd needs this device but the line has no x-initrd.attach, so mkosi-initrd will not copy it; add x-initrd.attach to keep its options (or rely on rd.luks.uuid=)`);
    }
  }
  for (const e of snapshot.errors) {
    if (e.probe === 'dmsetup-info' || e.probe === 'lvm-fullreport.json') {
      if (st.devices.size && [...st.devices.values()].some((d) => /^dm-/.test(d.kname))) {
        findings.warn(`${e.probe} was not captured (${e.stderr.split('\n')[0] || `exit ${e.exitCode}`}): device-mapper details are inferred from lsblk`);
      }
    }
  }

  const features = FEATURES.filter((f) => findings.features.has(f));
  return {
    host: osInfo(snapshot, facts),
    mounts,
    features,
    featureReasons: Object.fromEntries(features.map((f) => [f, findings.features.get(f)!])),
    unsupported: [...findings.unsupported.values()],
    warnings: [...facts.warnings, ...findings.warnings],
    devices: [...st.devices.values()],
    crypttab: [...st.crypttab.values()],
    resume,
    diskDrivers: [...st.diskDrivers].sort(),
    keymap: facts.vconsole.get('KEYMAP') ?? null,
  };
}
