/**
 * Snapshot → HostReport. Starts from the mounts the initrd must bring up (/,
 * /usr, x-initrd.mount entries, the resume swap) and walks down the block
 * graph to the disks, recognising each layer. Pure: reads only the snapshot.
 *
 * Fails closed: when a fact needed to follow one of those mounts down to the
 * disks is missing (no usable lsblk, a source lsblk does not show, no "/",
 * a chain that stops at a device-mapper layer), the report lists it under
 * `incomplete` and never calls the host "plain". analyzeSnapshot() returns
 * such a report for detect and suggest to show; analyze() refuses it, so
 * build, install and the wizard never act on a guess.
 *
 * Every lookup is by index (Map/Set), never a scan per mount or device:
 * snapshots from other machines may hold tens of thousands of lines.
 */
import { InputError } from '../errors.js';
import type { Snapshot } from './snapshot.js';
import { deviceByName, devicesWithUuid, findDevice, parseLsblk, type BlockDevice, type BlockGraph } from './parse/lsblk.js';
import { parseFindmnt, splitSource, visibleMounts, type Mount } from './parse/findmnt.js';
import { parseCrypttab, parseFstab, parseSwaps, type CrypttabEntry, type FstabEntry } from './parse/tabfile.js';
import { cmdlineHas, cmdlineValue, parseCmdline, type Cmdline } from './parse/cmdline.js';
import { parseMdadmScan, parseMdstat, type MdArray, type MdstatArray } from './parse/mdadm.js';
import { parseLvmReport, type LvmReport } from './parse/lvm.js';
import { parseDmsetupInfo, parseDmsetupTable } from './parse/dmsetup.js';
import { parseLuks2Json, parseLuksDumpText, type LuksHeader } from './parse/luks.js';
import { parseKeyValue } from './parse/keyvalue.js';
import { parseOsRelease, type OsRelease } from './parse/osrelease.js';
import { quoteForMessage } from './parse/text.js';
import { detachedHeaderAdvice, unsupportedFinding } from './unsupported.js';
import { initrdGeneratorOf, type InitrdGenerator } from './generator.js';
import {
  FEATURES,
  type CrypttabNeed,
  type Feature,
  type HostReport,
  type IncompleteFact,
  type MountReport,
  type MountRole,
  type StackNode,
  type StorageDevice,
  type UnsupportedFinding,
  type UnsupportedId,
} from './report.js';

const NETWORK_FS = new Set(['nfs', 'nfs4']);
/** Filesystems that live in memory: nothing underneath to follow. */
const MEMORY_FS = new Set(['tmpfs', 'ramfs']);
const RAID_TYPES = /^(raid\d+|linear|md)$/;
/** Device types a chain may end at: the physical layer (anything else with nothing below means lsblk lost the rest). */
const PHYSICAL_TYPES = new Set(['disk', 'part', 'loop', 'rom']);
/** Deeper stacks are not followed; real ones have fewer than 10 layers. */
const MAX_LAYERS = 64;
/** Per file, at most this many warnings are listed; the rest are counted. */
const MAX_WARNINGS_PER_FILE = 20;

/** The next step for most missing facts: a full capture, as root, on the machine itself. */
const RECAPTURE = 'capture the snapshot again on that machine, as root, while the system is running: `sudo initrd-wizard snapshot --output DIR`';

/** A report with missing facts, refused where an answer would be acted on (build, install, the wizard). */
export class IncompleteFactsError extends InputError {
  override readonly name: string = 'IncompleteFactsError';
  constructor(readonly incomplete: IncompleteFact[]) {
    const first = incomplete[0]!;
    const more = incomplete.length > 1 ? ` (and ${incomplete.length - 1} more missing fact${incomplete.length > 2 ? 's' : ''})` : '';
    super(`cannot tell what the initrd must bring up: ${first.what}: ${first.reason}${more}`, first.next);
  }
}

/** First-wins index of items by one or more keys: find() semantics without a scan per lookup. */
function firstBy<T>(items: readonly T[], keys: (item: T) => Iterable<string | null | undefined>): Map<string, { item: T; at: number }> {
  const out = new Map<string, { item: T; at: number }>();
  items.forEach((item, at) => {
    for (const k of keys(item)) if (k !== null && k !== undefined && !out.has(k)) out.set(k, { item, at });
  });
  return out;
}

/** Of several index hits, the one earliest in the original list (what find() returned). */
function earliest<T>(...hits: Array<{ item: T; at: number } | undefined>): T | undefined {
  let best: { item: T; at: number } | undefined;
  for (const h of hits) if (h && (!best || h.at < best.at)) best = h;
  return best?.item;
}

/** Path suffixes after each "/" (short ones only: device names are short), for endsWith() lookups. */
function pathTails(p: string): string[] {
  const out: string[] = [];
  for (let i = p.lastIndexOf('/'); i >= 0 && p.length - i <= 256; i = i > 0 ? p.lastIndexOf('/', i - 1) : -1) out.push(p.slice(i + 1));
  return out;
}

/** Everything parsed from a snapshot, with warnings that name the file. */
interface Facts {
  graph: BlockGraph;
  /** lsblk.json was present, parsed and listed devices: "not in lsblk" then means something. */
  graphUsable: boolean;
  mounts: Mount[] | null;
  /** The mount visible at each target (the last mounted there). */
  liveAt: Map<string, Mount> | null;
  fstab: FstabEntry[];
  /** The first fstab line for each mount point. */
  fstabAt: Map<string, FstabEntry>;
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
  /** dm-crypt devices by name: the sector their data starts at on the device below (dmsetup table). */
  cryptOffsets: Map<string, number>;
  luks: Map<string, LuksHeader>;
  sysBlock: Map<string, Map<string, string>>;
  osRelease: OsRelease;
  vconsole: Map<string, string>;
  warnings: string[];
  /** Facts the walk cannot do without, found missing while gathering. */
  incomplete: IncompleteFact[];
  lookups: Lookups;
}

/** Indexes over the parsed files, built once (see firstBy). */
interface Lookups {
  crypttabByName: Map<string, { item: CrypttabEntry; at: number }>;
  /** The first crypttab line whose device resolves to each kname. */
  crypttabByKname: Map<string, { item: CrypttabEntry; at: number }>;
  mdstatByName: Map<string, { item: MdstatArray; at: number }>;
  /** ARRAY lines by "dev:" + device and "tail:" + each path suffix. */
  mdArrays: Map<string, { item: MdArray; at: number }>;
  /** LVs by their device-mapper name (VG-LV with dashes doubled). */
  lvByDmName: Map<string, { item: LvmReport['lvs'][number]; at: number }>;
  /** Some device has FSTYPE: udev was running, so a missing LUKS header means something. */
  fstypesKnown: boolean;
}

function buildLookups(graph: BlockGraph, crypttab: CrypttabEntry[], mdArrays: MdArray[], mdstat: MdstatArray[], lvm: LvmReport | null): Lookups {
  return {
    crypttabByName: firstBy(crypttab, (e) => [e.name]),
    crypttabByKname: firstBy(crypttab, (e) => [findDevice(graph, e.device)?.kname]),
    mdstatByName: firstBy(mdstat, (a) => [a.name]),
    mdArrays: firstBy(mdArrays, (a) => [`dev:${a.device}`, ...pathTails(a.device).map((t) => `tail:${t}`)]),
    lvByDmName: firstBy(lvm?.lvs ?? [], (l) => [`${l.vg.replace(/-/g, '--')}-${l.name.replace(/-/g, '--')}`]),
    fstypesKnown: [...graph.devices.values()].some((d) => d.fstype),
  };
}

/** lsblk.json → the block graph, or why there is none (then nothing can be followed to a disk). */
function blockGraph(snapshot: Snapshot, where: string): { graph: BlockGraph; warnings: string[]; missing: IncompleteFact | null } {
  const empty: BlockGraph = { devices: new Map() };
  const what = 'the block devices';
  const text = snapshot.files.get('lsblk.json');
  if (text === undefined) {
    const why = snapshot.errors.find((e) => e.probe === 'lsblk.json');
    const reason = `${where}lsblk.json is missing${why ? ` (${why.command}: ${(why.stderr || `exit ${why.exitCode}`).split('\n')[0]!.slice(0, 200)})` : ''}: no mount can be followed to a disk`;
    return { graph: empty, warnings: [], missing: { what, reason, next: 'capture the snapshot again with util-linux installed: `sudo initrd-wizard snapshot --output DIR`' } };
  }
  const r = parseLsblk(text);
  if (!r.ok) {
    const next = 'capture the snapshot again (`sudo initrd-wizard snapshot`); lsblk.json must hold the output of `lsblk --json --bytes --output-all`';
    return { graph: empty, warnings: [], missing: { what, reason: `${where}lsblk.json: ${r.error}`, next } };
  }
  if (r.value.devices.size === 0) {
    return { graph: r.value, warnings: r.warnings, missing: { what, reason: `${where}lsblk.json lists no block devices: no mount can be followed to a disk`, next: RECAPTURE } };
  }
  return { graph: r.value, warnings: r.warnings, missing: null };
}

/**
 * A file's warnings, at most MAX_WARNINGS_PER_FILE of them: a hostile file may
 * hold millions of bad lines. Each is prefixed with the file unless it names it already.
 */
function capped(list: string[], prefix: string, out: string[]) {
  for (const w of list.slice(0, MAX_WARNINGS_PER_FILE)) out.push(!prefix || w.startsWith(prefix) ? w : `${prefix}: ${w}`);
  if (list.length > MAX_WARNINGS_PER_FILE) out.push(`${prefix || 'snapshot'}: ${list.length - MAX_WARNINGS_PER_FILE} more warnings like these`);
}

/** The first line for each mount point (what a find() by mount point returned). */
function firstFstabLines(fstab: FstabEntry[]): Map<string, FstabEntry> {
  const out = new Map<string, FstabEntry>();
  for (const e of fstab) if (!out.has(e.file)) out.set(e.file, e);
  return out;
}

function gather(snapshot: Snapshot): Facts {
  const warnings: string[] = [];
  capped(snapshot.warnings, '', warnings);
  const where = snapshot.dir ? `${snapshot.dir}/` : '';
  const file = (name: string) => snapshot.files.get(name);
  const take = <T>(name: string, r: { ok: true; value: T; warnings: string[] } | { ok: false; error: string }, fallback: T): T => {
    if (!r.ok) {
      warnings.push(`${where}${name}: ${r.error}; ignored`);
      return fallback;
    }
    capped(r.warnings.map((w) => (w.startsWith(name) ? `${where}${w}` : `${where}${name}: ${w}`)), `${where}${name}`, warnings);
    return r.value;
  };
  const incomplete: IncompleteFact[] = [];

  const lsblk = blockGraph(snapshot, where);
  if (lsblk.missing) incomplete.push(lsblk.missing);
  capped(lsblk.warnings, `${where}lsblk.json`, warnings);

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
  const cryptOffsets = new Map<string, number>();
  if (table !== undefined) {
    for (const [name, t] of take('dmsetup-table', parseDmsetupTable(table), new Map())) {
      dmTargets.set(name, t.targets);
      if (t.cryptOffset !== null) cryptOffsets.set(name, t.cryptOffset);
    }
  }

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
  const fstab = take('fstab', parseFstab(text('fstab')), []);
  const crypttab = take('crypttab', parseCrypttab(text('crypttab')), []);
  const mdArrays = [
    ...take('mdadm-detail-scan', parseMdadmScan(text('mdadm-detail-scan')), []),
    ...take('mdadm.conf', parseMdadmScan(text('mdadm.conf'), 'mdadm.conf'), []),
  ];
  const mdstat = take('mdstat', parseMdstat(text('mdstat')), []);
  const lvm = file('lvm-fullreport.json') !== undefined ? take('lvm-fullreport.json', parseLvmReport(text('lvm-fullreport.json')), null) : null;
  const emptyOs: OsRelease = { id: null, idLike: [], versionId: null, versionCodename: null, prettyName: null, name: null };
  return {
    graph: lsblk.graph,
    graphUsable: !lsblk.missing,
    mounts,
    liveAt: mounts ? visibleMounts(mounts) : null,
    fstab,
    fstabAt: firstFstabLines(fstab),
    crypttab,
    swaps: take('swaps', parseSwaps(text('swaps')), []).map((s) => s.filename),
    cmdline: parseCmdline(text('cmdline')),
    kernelCmdline: parseCmdline(text('kernel-cmdline')),
    sysPowerResume: file('sys-power-resume')?.trim() ?? null,
    mdArrays,
    mdstat,
    lvm,
    dmUuid,
    dmTargets,
    cryptOffsets,
    luks,
    sysBlock,
    osRelease: take('os-release', parseOsRelease(text('os-release')), emptyOs),
    vconsole: parseKeyValue(text('vconsole.conf')),
    warnings,
    incomplete,
    lookups: buildLookups(lsblk.graph, crypttab, mdArrays, mdstat, lvm),
  };
}

/** Collects features with reasons and unsupported findings, de-duplicated (Sets: a reason per mount adds up). */
class Findings {
  constructor(readonly generator: InitrdGenerator | null) {}
  features = new Map<Feature, string[]>();
  private reasonSets = new Map<Feature, Set<string>>();
  unsupported = new Map<string, UnsupportedFinding>();
  /** Devices carrying an unsupported finding. */
  flagged = new Set<string>();
  warnings: string[] = [];
  private warned = new Set<string>();
  incomplete: IncompleteFact[] = [];
  feature(f: Feature, reason: string) {
    let set = this.reasonSets.get(f);
    if (!set) {
      this.reasonSets.set(f, (set = new Set()));
      this.features.set(f, []);
    }
    if (set.has(reason)) return;
    set.add(reason);
    this.features.get(f)!.push(reason);
  }
  unsupportedAt(id: UnsupportedId, device: string, detail?: string, advice?: string) {
    const key = `${id}\0${device}`;
    if (this.unsupported.has(key)) return;
    this.unsupported.set(key, unsupportedFinding(id, device, this.generator, detail, advice));
    this.flagged.add(device);
  }
  warn(w: string) {
    if (this.warned.has(w)) return;
    this.warned.add(w);
    this.warnings.push(w);
  }
  missing(what: string, reason: string, next: string = RECAPTURE) {
    this.incomplete.push({ what, reason, next });
  }
}

/** The device lsblk calls `name` (chains are lists of names). */
function deviceNamed(facts: Facts, name: string): BlockDevice | undefined {
  return deviceByName(facts.graph, name) ?? undefined;
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
  const byName = facts.lookups.crypttabByName.get(dev.name)?.item;
  if (byName || !lower) return byName;
  const byLower = facts.lookups.crypttabByKname.get(lower.kname)?.item;
  if (byLower || !isLuksIntegrityLayer(dev, lower, facts)) return byLower;
  // LUKS2 with authenticated encryption: crypttab names the partition under the <name>_dif layer.
  const below = lower.parents[0] ? facts.graph.devices.get(lower.parents[0]) : undefined;
  return below ? facts.lookups.crypttabByKname.get(below.kname)?.item : undefined;
}

const RANDOM_KEYS = new Set(['/dev/urandom', '/dev/random', '/dev/hw_random']);

function isRandomKeySwap(e: CrypttabEntry): boolean {
  return e.options.has('swap') || e.options.has('tmp') || (e.keyFile !== null && RANDOM_KEYS.has(e.keyFile));
}

interface WalkState {
  findings: Findings;
  facts: Facts;
  devices: Map<string, StorageDevice>;
  /** walkDown's answer per top device: thousands of mounts on one partition walk it once. */
  walks: Map<string, Walk>;
  crypttab: Map<string, CrypttabNeed>;
  diskDrivers: Set<string>;
  targetModules: Set<string>;
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
    const stat = facts.lookups.mdstatByName.get(dev.kname)?.item;
    const md = facts.lookups.mdArrays;
    const arr = earliest(md.get(`dev:/dev/${dev.kname}`), dev.path ? md.get(`dev:${dev.path}`) : undefined, md.get(`tail:${dev.name}`));
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
    // LUKS2 with authenticated encryption: the _dif helper, and the crypt mapping whose header is below it.
    const lower = parents[0];
    const below = lower && isLuksIntegrityLayer(dev, lower, facts) ? facts.graph.devices.get(lower.parents[0] ?? '') : lower;
    const kind = isLuksIntegrityHelper(dev, facts) ? 'CRYPT-SUBDEV' : below?.fstype === 'crypto_LUKS' ? 'CRYPT-LUKS' : 'CRYPT-UNKNOWN';
    return classifyCrypt(dev, kind, parents, st);
  }
  if (uuid?.startsWith('LVM-') || type === 'lvm') {
    const lv = facts.lookups.lvByDmName.get(dev.name)?.item;
    const thin = targets.some((t) => t === 'thin' || t === 'thin-pool') || /-(tpool|tdata|tmeta)$/.test(uuid ?? '') || /thin/.test(lv?.layout ?? '');
    const pretty = lv ? `${lv.vg}/${lv.name}` : dev.name;
    findings.feature('lvm', `${label}: LVM logical volume ${pretty}`);
    if (thin) findings.feature('lvm-thin', `${label}: part of an LVM thin pool (needs thin_check from the thin-provisioning tools)`);
    if (targets.includes('cache') || /cache/.test(lv?.layout ?? '')) findings.warn(`${label}: LVM cache volume: the initrd needs dm-cache modules and cache_check`);
    if (targets.includes('raid') || /^raid/.test(lv?.layout ?? '')) {
      // The variant carries the module (suggest adds targetModules), so this is a fact about the stack, not a warning.
      st.targetModules.add('dm_raid');
      findings.feature('lvm', `${label}: LVM RAID volume ${pretty}${lv?.layout ? ` (${lv.layout})` : ''}: the dm-raid target, whose module the variant adds`);
    }
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

/**
 * Whether `lower` is the helper device of LUKS2 with authenticated encryption (luksFormat --integrity)
 * under the crypt mapping `dev`: cryptsetup names it `<name>_dif`, gives it a dm-integrity table and
 * the dm uuid `CRYPT-INTEGRITY-<hex>-<name>_dif` (cryptsetup 2.7, seen in trixie-luks2-integrity;
 * `CRYPT-SUBDEV-` is accepted too), and stacks the crypt mapping `<name>` directly on it.
 */
function isLuksIntegrityLayer(dev: BlockDevice, lower: BlockDevice, facts: Facts): boolean {
  if (!isDm(lower, facts)) return false;
  const uuid = dmUuidOf(lower, facts);
  if (uuid?.startsWith('CRYPT-SUBDEV-')) return true;
  if (lower.name !== `${dev.name}_dif`) return false;
  const targets = facts.dmTargets.get(lower.name) ?? [];
  // cryptsetup 2.6/2.7 give the helper a CRYPT-INTEGRITY- uuid and an integrity table; without
  // dmsetup output (captured as a normal user) the name alone tells.
  return targets.includes('integrity') || !!uuid?.startsWith('CRYPT-INTEGRITY-') || (!uuid && !targets.length);
}

/** Whether `dev` is a `<name>_dif` integrity helper under a crypt mapping `<name>` (isLuksIntegrityLayer seen from below). */
function isLuksIntegrityHelper(dev: BlockDevice, facts: Facts): boolean {
  if (!dev.name.endsWith('_dif')) return false;
  return dev.children.some((c) => {
    const child = facts.graph.devices.get(c);
    return !!child && child.name === dev.name.slice(0, -'_dif'.length) && isLuksIntegrityLayer(child, dev, facts);
  });
}

function classifyCrypt(dev: BlockDevice, uuid: string, parents: BlockDevice[], st: WalkState): string {
  const { facts, findings } = st;
  const label = dev.name;
  const lower = parents[0];
  const kind = /^CRYPT-([A-Z0-9]+)/.exec(uuid)?.[1] ?? 'UNKNOWN';
  const entry = crypttabFor(dev, lower, facts);
  if (kind === 'INTEGRITY' && !isLuksIntegrityHelper(dev, facts)) {
    findings.feature('integrity', `${label}: dm-integrity volume`);
    return 'dm-integrity';
  }
  if (kind === 'VERITY') {
    findings.feature('verity', `${label}: dm-verity volume`);
    return 'dm-verity';
  }
  if (kind === 'SUBDEV' || kind === 'INTEGRITY') {
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
    // LUKS2 with authenticated encryption: dm-crypt sits on its own <name>_dif dm-integrity device,
    // and the LUKS header is on the device below that one.
    const integrityLayer = lower && isLuksIntegrityLayer(dev, lower, facts) ? lower : undefined;
    const headerDev = integrityLayer ? (facts.graph.devices.get(integrityLayer.parents[0] ?? '') ?? integrityLayer) : lower;
    const headerHere = headerDev?.fstype === 'crypto_LUKS' || (headerDev ? facts.luks.has(headerDev.kname) : false);
    const detachedByCrypttab = entry?.options.has('header') ?? false;
    // FSTYPE comes from the udev database; when no device has one, udev was not running and a missing header proves nothing.
    // With no lower device in lsblk there is nothing to judge the header by: that is a missing fact (see chainGap), not a detached header.
    if (!headerHere && (detachedByCrypttab || (lower && facts.lookups.fstypesKnown))) {
      // Still LUKS, and still needing cryptsetup and dm-crypt: the header's location is what cannot be carried.
      findings.feature('luks', `${label}: LUKS with a detached header over ${headerDev?.name ?? '?'}`);
      const headerFile = detachedByCrypttab ? String(entry!.options.get('header')) : null;
      const dataDevice = headerDev ? `/dev/${headerDev.kname}` : 'the device below it';
      findings.unsupportedAt(
        'luks-detached-header',
        label,
        headerFile ? `crypttab header=${headerFile}` : `${headerDev?.name ?? 'the lower device'} has no LUKS header`,
        detachedHeaderAdvice(st.findings.generator, dataDevice, facts.cryptOffsets.get(dev.name) ?? null, headerFile, dev.name),
      );
      return 'LUKS (detached header)';
    }
    const header = headerDev ? facts.luks.get(headerDev.kname) : undefined;
    const version = header?.version ?? (/^CRYPT-LUKS1/.test(uuid) ? 1 : /^CRYPT-LUKS2/.test(uuid) ? 2 : headerDev?.fsver === '1' ? 1 : 2);
    findings.feature('luks', `${label}: LUKS${version} on ${headerDev?.name ?? '?'}${integrityLayer ? ` (through its integrity layer ${integrityLayer.name})` : ''}`);
    const tokens = header?.tokens ?? [];
    if (headerDev && !header && headerHere) {
      findings.warn(`${headerDev.name}: LUKS header not in the snapshot (luksDump needs root): TPM2/FIDO2/PKCS#11 tokens could not be checked`);
    }
    const unlock = (feature: Feature, how: string) => findings.feature(feature, `${label}: ${how}`);
    if (tokens.includes('systemd-tpm2')) unlock('tpm2', 'LUKS2 token systemd-tpm2 (TPM2 unlock)');
    if (tokens.includes('systemd-fido2')) unlock('fido2', 'LUKS2 token systemd-fido2 (FIDO2 unlock)');
    if (tokens.includes('systemd-pkcs11')) unlock('pkcs11', 'LUKS2 token systemd-pkcs11 (smart card unlock)');
    if (tokens.some((t) => t.startsWith('clevis'))) {
      findings.warn(`${headerDev?.name ?? label}: clevis token: mkosi-initrd has no clevis support; unlocking will fall back to the passphrase unless clevis packages are added`);
    }
    if (header?.integrity || integrityLayer) findings.feature('integrity', `${label}: LUKS2 with authenticated encryption (dm-integrity)`);
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

interface Walk {
  /** Names from the physical layer up, without whole disks that only carry partitions of the chain. */
  chain: string[];
  disks: string[];
  /** Every device visited, lowest first. */
  order: BlockDevice[];
  /** The walk stopped at MAX_LAYERS before reaching the bottom. */
  truncated: boolean;
  /** Why the walk did not reach the disks (see chainGap), or null. */
  gap: string | null;
  /** Nothing but partitions, disks and loop devices, none of them device-mapper. */
  onlyDisks: boolean;
  /** The same devices as a tree, `top` at the root. */
  stack: StackNode;
}

/** Devices from the physical layer up to `top`, each once, lowest first (computed once per top). */
function walkDown(top: BlockDevice, st: WalkState): Walk {
  let walk = st.walks.get(top.kname);
  if (!walk) st.walks.set(top.kname, (walk = walkFrom(top, st)));
  return walk;
}

function walkFrom(top: BlockDevice, st: WalkState): Walk {
  const graph = st.facts.graph;
  const order: BlockDevice[] = [];
  const seen = new Set<string>();
  let truncated = false;
  const visit = (d: BlockDevice, depth: number) => {
    if (seen.has(d.kname)) return;
    if (depth > MAX_LAYERS) {
      truncated = true;
      return;
    }
    seen.add(d.kname);
    for (const p of d.parents) {
      const parent = graph.devices.get(p);
      if (parent) visit(parent, depth + 1);
    }
    order.push(d);
  };
  visit(top, 0);
  const stack = stackUnder(top, graph);
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
  // (Found from the partitions' side: a disk may have thousands of children, the walk has few.)
  const carryingPartitions = new Set<string>();
  for (const d of order) if (d.type === 'part') for (const p of d.parents) carryingPartitions.add(p);
  const wholeDisk = (d: BlockDevice) => (d.type === 'disk' || d.type === 'loop') && d.parents.length === 0;
  const disks = order.filter(wholeDisk).map((d) => d.name);
  const chain = order.filter((d) => !(wholeDisk(d) && carryingPartitions.has(d.kname)));
  const onlyDisks = chain.every((d) => !isDm(d, st.facts) && (d.type === 'part' || d.type === 'disk' || d.type === 'loop'));
  const walk: Walk = { chain: chain.map((d) => d.name), disks, order, truncated, gap: null, onlyDisks, stack };
  // After classify above: the devices of this walk carry their findings now, and keep them.
  walk.gap = chainGap(top, walk, st);
  // Record crypttab lines the initrd needs, and whether mkosi-initrd will carry them.
  recordCrypttab(walk.chain, st);
  return walk;
}

/** `top` and everything below it as a tree, as deep as the walk goes; each device expanded once, so the tree stays as small as lsblk.json. */
function stackUnder(top: BlockDevice, graph: BlockGraph): StackNode {
  const expanded = new Set<string>();
  const node = (d: BlockDevice, depth: number): StackNode => {
    const n: StackNode = { name: d.name, type: d.type ?? 'unknown', children: [] };
    if (expanded.has(d.kname)) return { ...n, repeat: true };
    if (depth >= MAX_LAYERS) return n;
    expanded.add(d.kname);
    for (const p of d.parents) {
      const parent = graph.devices.get(p);
      if (parent) n.children.push(node(parent, depth + 1));
    }
    return n;
  };
  return node(top, 0);
}

/** Appends the names not yet in `list` (a Set only when merging several walks). */
function mergeNames(list: string[], names: string[]) {
  if (!list.length) {
    list.push(...names);
    return;
  }
  const have = new Set(list);
  for (const n of names) {
    if (have.has(n)) continue;
    have.add(n);
    list.push(n);
  }
}

/**
 * Why a walk did not reach the disks, or null when it did: every device at
 * the bottom must be physical (or already unsupported, which decides the
 * answer anyway). A device-mapper or RAID layer with nothing below it means
 * lsblk lost what is underneath.
 */
function chainGap(top: BlockDevice, walk: Pick<Walk, 'order' | 'truncated'>, st: WalkState): string | null {
  if (walk.truncated) return `${top.name} has more than ${MAX_LAYERS} layers below it in lsblk.json (a loop?)`;
  const bottoms = walk.order.filter((d) => d.parents.length === 0);
  if (!bottoms.length) return `the devices below ${top.name} in lsblk.json form a loop with no disk underneath`;
  for (const d of bottoms) {
    if (st.findings.flagged.has(d.name)) continue;
    if (!PHYSICAL_TYPES.has(d.type ?? '') || isDm(d, st.facts)) {
      return `${d.name} (${d.type ?? 'no TYPE'}) under ${top.name} has nothing below it in lsblk.json: the disks are unknown`;
    }
  }
  return null;
}

interface NeededMount {
  target: string;
  role: MountRole;
  source: string;
  fstype: string;
  subvolume: string | null;
  majMin?: string | null;
}

function neededMounts(facts: Facts, findings: Findings): NeededMount[] {
  const out: NeededMount[] = [];
  const targets = new Set<string>();
  const add = (target: string, role: MountRole) => {
    const live = facts.liveAt?.get(target);
    if (live) {
      const subvol = live.fstype === 'btrfs' && live.fsroot && live.fsroot !== '/' ? live.fsroot : null;
      out.push({ target, role, source: live.source, fstype: live.fstype, subvolume: subvol, majMin: live.majMin });
      targets.add(target);
      return true;
    }
    const tab = facts.fstabAt.get(target);
    if (tab) {
      const subvolOpt = tab.options.find((o) => o.startsWith('subvol='));
      out.push({ target, role, source: tab.spec, fstype: tab.vfstype, subvolume: subvolOpt ? subvolOpt.slice('subvol='.length) : null });
      targets.add(target);
      return true;
    }
    return false;
  };
  if (!add('/', 'root')) {
    findings.missing(
      '/',
      `cannot tell what / is mounted from: ${facts.mounts ? 'findmnt.json has no "/"' : 'findmnt.json is missing or unusable'} and fstab has no "/" entry`,
      'capture the snapshot again on the running system: `sudo initrd-wizard snapshot --output DIR`',
    );
  }
  if (facts.liveAt ? facts.liveAt.has('/usr') : facts.fstabAt.has('/usr')) add('/usr', 'usr');
  else if (!facts.liveAt && cmdlineValue(facts.cmdline, 'mount.usr')) {
    // Only the mount table shows a /usr that the kernel command line mounts; without it, that /usr cannot be followed.
    findings.missing('/usr', 'mount.usr= on the kernel command line mounts a separate /usr, and without a usable findmnt.json its source is unknown (fstab has no "/usr")');
  }
  for (const e of facts.fstab) {
    if (e.options.includes('x-initrd.mount') && e.file !== '/' && e.file !== '/usr' && !targets.has(e.file)) add(e.file, 'x-initrd');
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
    os: os.id ?? 'linux',
    osVersion: os.versionId ?? '',
    prettyName: os.prettyName ?? os.name ?? 'Linux',
    idLike: os.idLike,
    kernel: snapshot.meta.kernel,
    arch: snapshot.meta.arch,
    initrdGenerator: initrdGeneratorOf(os, snapshot.files.get('install.conf')),
  };
}

/** Devices of a crypt layer on the chain whose crypttab line the initrd needs. */
function recordCrypttab(chain: Iterable<string>, st: WalkState) {
  const { facts } = st;
  for (const name of chain) {
    const d = deviceNamed(facts, name);
    if (!d || !(dmUuidOf(d, facts)?.startsWith('CRYPT-') || d.type === 'crypt')) continue;
    const lower = d.parents[0] ? facts.graph.devices.get(d.parents[0]) : undefined;
    const entry = crypttabFor(d, lower, facts);
    if (entry && !st.crypttab.has(entry.name)) {
      const opts = [...entry.options.entries()].map(([k, v]) => (v === true ? k : `${k}=${v}`));
      st.crypttab.set(entry.name, { name: entry.name, device: entry.device, initrdAttach: entry.options.has('x-initrd.attach'), options: opts });
    }
  }
}

/** The crypttab line of a random-key swap anywhere under `dev`, if any: such a swap cannot be resumed from. */
function randomKeyUnder(dev: BlockDevice, facts: Facts): CrypttabEntry | undefined {
  let found: CrypttabEntry | undefined;
  const seen = new Set<string>();
  // Iterative: parents may chain far deeper than a stack allows in a hostile lsblk.json.
  const todo = [dev];
  while (todo.length) {
    const d = todo.pop()!;
    if (seen.has(d.kname)) continue;
    seen.add(d.kname);
    const lower = d.parents[0] ? facts.graph.devices.get(d.parents[0]) : undefined;
    const e = d.type === 'crypt' || dmUuidOf(d, facts)?.startsWith('CRYPT-') ? crypttabFor(d, lower, facts) : undefined;
    if (e && isRandomKeySwap(e)) found = e;
    for (const p of d.parents) {
      const pd = facts.graph.devices.get(p);
      if (pd) todo.push(pd);
    }
  }
  return found;
}

/**
 * The report for a snapshot, with `incomplete` listing every fact that was
 * needed and missing. For showing (detect, suggest); anything that acts on the
 * answer calls analyze().
 */
export function analyzeSnapshot(snapshot: Snapshot): HostReport {
  const facts = gather(snapshot);
  const findings = new Findings(initrdGeneratorOf(facts.osRelease, snapshot.files.get('install.conf')));
  const st: WalkState = { findings, facts, devices: new Map(), walks: new Map(), crypttab: new Map(), diskDrivers: new Set(), targetModules: new Set() };
  const mounts: MountReport[] = [];

  const walkMount = (m: NeededMount): MountReport => {
    const report: MountReport = { target: m.target, role: m.role, source: m.source, fstype: m.fstype, chain: [], disks: [], stack: null, subvolume: m.subvolume };
    const what = m.role === 'resume' ? 'the resume swap' : m.target;
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
    if (MEMORY_FS.has(m.fstype)) return report;
    // "/dev/root" and other aliases are not in lsblk; the device number is (except on btrfs, whose st_dev is anonymous).
    const dev =
      findDevice(facts.graph, splitSource(m.source).source) ??
      (m.majMin && m.fstype !== 'btrfs' ? findDevice(facts.graph, m.majMin) : null);
    if (!dev) {
      // Without a usable lsblk every source is unknown; that one fact is already listed.
      if (facts.graphUsable) {
        findings.missing(what, `source ${quoteForMessage(m.source)} (${quoteForMessage(m.fstype || 'unknown type')}) is not a block device in lsblk.json: the storage under it is unknown`);
      }
      return report;
    }
    const tops = [dev];
    if (m.fstype === 'btrfs' && dev.uuid) {
      // A multi-device btrfs shows one source; every member must be present to mount it.
      for (const d of devicesWithUuid(facts.graph, dev.uuid)) if (d.kname !== dev.kname && d.fstype === 'btrfs') tops.push(d);
      findings.feature('btrfs', `${m.target}: btrfs on ${tops.map((d) => d.name).join(', ')}${m.subvolume ? ` (subvolume ${m.subvolume})` : ''}`);
      if (tops.length > 1) findings.warn(`${m.target}: multi-device btrfs over ${tops.map((d) => d.name).join(', ')}: every member must be unlocked/assembled in the initrd`);
    }
    const stacks: StackNode[] = [];
    for (const top of tops) {
      const walk = walkDown(top, st);
      stacks.push(walk.stack);
      mergeNames(report.chain, walk.chain);
      mergeNames(report.disks, walk.disks);
      if (walk.gap) findings.missing(what, walk.gap);
      // "plain" is about filesystems; a swap partition straight on a disk does not make a host plain.
      // Plain means nothing between the filesystem and a local disk: no device-mapper, nothing unsupported.
      const flagged = walk.chain.some((n) => findings.flagged.has(n)) || walk.disks.some((n) => findings.flagged.has(n));
      if (m.role !== 'resume' && !flagged && !walk.gap && walk.onlyDisks) {
        findings.feature('plain', `${m.target}: ${m.fstype || top.fstype || 'filesystem'} directly on ${top.name}`);
      }
    }
    report.stack = stacks.length === 1 ? stacks[0]! : { name: dev.uuid ?? dev.name, type: m.fstype, children: stacks };
    return report;
  };

  for (const m of neededMounts(facts, findings)) mounts.push(walkMount(m));

  let resume: HostReport['resume'] = null;
  const spec = resumeSpec(facts);
  if (spec) {
    const dev = findDevice(facts.graph, spec.spec);
    if (!dev) {
      if (facts.graphUsable) {
        findings.missing(
          'the resume swap',
          `${spec.from} names ${quoteForMessage(spec.spec)}, which is not a block device in lsblk.json`,
          `if that swap no longer exists, remove resume= from the kernel command line; otherwise ${RECAPTURE}`,
        );
      }
    } else {
      // A swap whose key is random per boot is re-created at every boot: nothing to resume from.
      const randomKey = randomKeyUnder(dev, facts);
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
  // Whether a crypttab line without x-initrd.attach reaches the initrd depends on the mkosi version (24 gets
  // the lines carried in by us, 25 and later copy only attached ones): the build's notes say it, for that mkosi.
  const dmOnChains = [...st.devices.values()].some((d) => /^dm-/.test(d.kname));
  for (const e of snapshot.errors) {
    if ((e.probe === 'dmsetup-info' || e.probe === 'lvm-fullreport.json') && dmOnChains) {
      findings.warn(`${e.probe} was not captured (${e.stderr.split('\n', 1)[0]!.slice(0, 200) || `exit ${e.exitCode}`}): device-mapper details are inferred from lsblk`);
    }
  }

  const incomplete = [...facts.incomplete, ...findings.incomplete];
  // "plain" says nothing sits between a filesystem and its disk: with facts missing, nobody can say that.
  const features = FEATURES.filter((f) => findings.features.has(f) && !(f === 'plain' && incomplete.length));
  return {
    host: osInfo(snapshot, facts),
    mounts,
    features,
    featureReasons: Object.fromEntries(features.map((f) => [f, findings.features.get(f)!])),
    unsupported: [...findings.unsupported.values()],
    incomplete,
    warnings: [...facts.warnings, ...findings.warnings],
    devices: [...st.devices.values()],
    crypttab: [...st.crypttab.values()],
    resume,
    diskDrivers: [...st.diskDrivers].sort(),
    targetModules: [...st.targetModules].sort(),
    keymap: facts.vconsole.get('KEYMAP') ?? null,
  };
}

/**
 * The report, or an IncompleteFactsError (exit 2) when a needed fact is
 * missing: for everything that acts on the answer (build, install, the
 * wizard), which must never build or install from a guess.
 */
export function analyze(snapshot: Snapshot): HostReport {
  const report = analyzeSnapshot(snapshot);
  if (report.incomplete.length) throw new IncompleteFactsError(report.incomplete);
  return report;
}
