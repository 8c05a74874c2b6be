/**
 * `lsblk --json --bytes --output-all` → a flat, de-duplicated device graph.
 * lsblk prints a tree in which a device with several parents (an LV over two
 * PVs, an md array over two disks) appears once under each parent; we keep one
 * node per KNAME and record all its parents. Every column is optional: column
 * sets differ between util-linux versions, and older ones say MOUNTPOINT.
 */
import { parsed, parseFailure, type Parsed } from '../../errors.js';
import { parseJsonText } from './json.js';

export interface BlockDevice {
  kname: string;
  /** lsblk NAME: the device-mapper name for dm devices (e.g. fedora-root). */
  name: string;
  path: string | null;
  majMin: string | null;
  type: string | null;
  fstype: string | null;
  fsver: string | null;
  uuid: string | null;
  label: string | null;
  partuuid: string | null;
  partlabel: string | null;
  mountpoints: string[];
  tran: string | null;
  subsystems: string | null;
  size: number | null;
  ro: boolean;
  model: string | null;
  /** KNAMEs of the devices this one sits on. */
  parents: string[];
  /** KNAMEs of the devices that sit on this one. */
  children: string[];
}

export interface BlockGraph {
  devices: Map<string, BlockDevice>;
}

type Json = Record<string, unknown>;

function str(v: unknown): string | null {
  if (typeof v === 'string') return v.length ? v : null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
}

function bool(v: unknown): boolean {
  return v === true || v === '1' || v === 1 || v === 'true';
}

function mountpointsOf(node: Json): string[] {
  const out: string[] = [];
  if (Array.isArray(node.mountpoints)) {
    for (const m of node.mountpoints) if (typeof m === 'string' && m) out.push(m);
  }
  if (!out.length && typeof node.mountpoint === 'string' && node.mountpoint) out.push(node.mountpoint);
  return out;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseLsblk(text: string): Parsed<BlockGraph> {
  if (!text.trim()) return parseFailure('lsblk printed nothing');
  const r = parseJsonText(text);
  if (!r.ok) return r;
  const json = r.value;
  if (!isObject(json) || !Array.isArray(json.blockdevices)) {
    return parseFailure('no "blockdevices" list: not the output of lsblk --json');
  }
  const devices = new Map<string, BlockDevice>();
  const warnings: string[] = [];
  // Membership sets beside the ordered lists: a device listed under thousands of parents stays linear.
  const parentSets = new Map<string, Set<string>>();
  const childSets = new Map<string, Set<string>>();
  const link = (sets: Map<string, Set<string>>, list: string[], owner: string, item: string) => {
    let set = sets.get(owner);
    if (!set) sets.set(owner, (set = new Set(list)));
    if (!set.has(item)) {
      set.add(item);
      list.push(item);
    }
  };
  const visit = (node: unknown, parent: string | null, depth: number) => {
    if (!isObject(node)) {
      warnings.push('ignored an entry that is not an object');
      return;
    }
    if (depth > 64) {
      warnings.push('device tree deeper than 64 levels: truncated');
      return;
    }
    const kname = str(node.kname) ?? str(node.name);
    if (!kname) {
      warnings.push('ignored a device without NAME/KNAME');
      return;
    }
    let dev = devices.get(kname);
    if (!dev) {
      dev = {
        kname,
        name: str(node.name) ?? kname,
        path: str(node.path),
        majMin: str(node['maj:min']),
        type: str(node.type),
        fstype: str(node.fstype),
        fsver: str(node.fsver),
        uuid: str(node.uuid),
        label: str(node.label),
        partuuid: str(node.partuuid),
        partlabel: str(node.partlabel),
        mountpoints: mountpointsOf(node),
        tran: str(node.tran),
        subsystems: str(node.subsystems),
        size: num(node.size),
        ro: bool(node.ro),
        model: str(node.model),
        parents: [],
        children: [],
      };
      devices.set(kname, dev);
    }
    if (parent && parent !== kname) {
      link(parentSets, dev.parents, kname, parent);
      const p = devices.get(parent);
      if (p) link(childSets, p.children, parent, kname);
    }
    // lsblk fills TRAN only on the whole disk; partitions inherit it.
    if (!dev.tran && parent) {
      const p = devices.get(parent);
      if (p?.tran && (dev.type === 'part' || p.type === 'disk')) dev.tran = p.tran;
    }
    if (node.children !== undefined) {
      if (!Array.isArray(node.children)) warnings.push(`${kname}: "children" is not a list, ignored`);
      else for (const child of node.children) visit(child, kname, depth + 1);
    }
  };
  for (const top of json.blockdevices) visit(top, null, 0);
  return parsed({ devices }, warnings);
}

/**
 * Lookup tables over a graph, built once per graph on first use: findDevice
 * is called for every mount, crypttab line and swap, and a scan per call made
 * a snapshot with thousands of them quadratic. Each table keeps the first
 * device in lsblk order, which is what the scans returned. Graphs are not
 * changed after parsing, so the tables never go stale.
 */
interface GraphIndex {
  order: Map<BlockDevice, number>;
  byPath: Map<string, BlockDevice>;
  byKname: Map<string, BlockDevice>;
  byName: Map<string, BlockDevice>;
  byMajMin: Map<string, BlockDevice>;
  byUuid: Map<string, BlockDevice>;
  byLabel: Map<string, BlockDevice>;
  byPartuuid: Map<string, BlockDevice>;
  byPartlabel: Map<string, BlockDevice>;
  /** Every device with a filesystem UUID, in lsblk order (multi-device btrfs shares one). */
  allByUuid: Map<string, BlockDevice[]>;
}

const indexes = new WeakMap<BlockGraph, GraphIndex>();

function firstWins(map: Map<string, BlockDevice>, key: string | null | undefined, d: BlockDevice) {
  if (key !== null && key !== undefined && !map.has(key)) map.set(key, d);
}

export function graphIndex(graph: BlockGraph): GraphIndex {
  const cached = indexes.get(graph);
  if (cached) return cached;
  const ix: GraphIndex = {
    order: new Map(), byPath: new Map(), byKname: new Map(), byName: new Map(), byMajMin: new Map(),
    byUuid: new Map(), byLabel: new Map(), byPartuuid: new Map(), byPartlabel: new Map(), allByUuid: new Map(),
  };
  for (const d of graph.devices.values()) {
    ix.order.set(d, ix.order.size);
    firstWins(ix.byPath, d.path, d);
    firstWins(ix.byKname, d.kname, d);
    firstWins(ix.byName, d.name, d);
    firstWins(ix.byMajMin, d.majMin, d);
    firstWins(ix.byUuid, d.uuid?.toLowerCase(), d);
    firstWins(ix.byLabel, d.label, d);
    firstWins(ix.byPartuuid, d.partuuid?.toLowerCase(), d);
    firstWins(ix.byPartlabel, d.partlabel, d);
    if (d.uuid) {
      const same = ix.allByUuid.get(d.uuid);
      if (same) same.push(d);
      else ix.allByUuid.set(d.uuid, [d]);
    }
  }
  indexes.set(graph, ix);
  return ix;
}

/** The device lsblk calls NAME `name` (the names chains are made of). */
export function deviceByName(graph: BlockGraph, name: string): BlockDevice | null {
  return graphIndex(graph).byName.get(name) ?? null;
}

/** Devices whose filesystem UUID is exactly `uuid`, in lsblk order. */
export function devicesWithUuid(graph: BlockGraph, uuid: string): BlockDevice[] {
  return graphIndex(graph).allByUuid.get(uuid) ?? [];
}

/** The earlier (in lsblk order) of two candidates. */
function earlier(ix: GraphIndex, a: BlockDevice | undefined, b: BlockDevice | undefined): BlockDevice | null {
  if (!a || !b) return a ?? b ?? null;
  return ix.order.get(a)! <= ix.order.get(b)! ? a : b;
}

/** Finds the device a path, UUID=, LABEL=, PARTUUID=, PARTLABEL= spec or MAJ:MIN names. */
export function findDevice(graph: BlockGraph, spec: string): BlockDevice | null {
  const ix = graphIndex(graph);
  const s = spec.trim().replace(/^"(.*)"$/, '$1');
  const eq = s.indexOf('=');
  if (eq > 0 && /^(UUID|LABEL|PARTUUID|PARTLABEL|ID)$/i.test(s.slice(0, eq))) {
    const key = s.slice(0, eq).toUpperCase();
    const value = s.slice(eq + 1);
    if (key === 'UUID') return ix.byUuid.get(value.toLowerCase()) ?? null;
    if (key === 'LABEL') return ix.byLabel.get(value) ?? null;
    if (key === 'PARTUUID') return ix.byPartuuid.get(value.toLowerCase()) ?? null;
    if (key === 'PARTLABEL') return ix.byPartlabel.get(value) ?? null;
    return null;
  }
  if (/^\d+:\d+$/.test(s)) return ix.byMajMin.get(s) ?? null;
  const byId = /^\/dev\/disk\/by-(uuid|label|partuuid|partlabel)\/(.+)$/.exec(s);
  if (byId?.[1] && byId[2]) {
    const value = byId[2].replace(/\\x2f/g, '/');
    return findDevice(graph, `${byId[1].toUpperCase()}=${value}`);
  }
  const byPath = ix.byPath.get(s);
  if (byPath) return byPath;
  const base = s.replace(/^\/dev\/(mapper\/)?/, '');
  const byBase = earlier(ix, ix.byKname.get(base), ix.byName.get(base));
  if (byBase) return byBase;
  // /dev/VG/LV → the dm name VG-LV, with dashes inside names doubled.
  const vgLv = /^\/dev\/([^/]+)\/([^/]+)$/.exec(s);
  if (vgLv?.[1] && vgLv[2]) {
    const dmName = `${vgLv[1].replace(/-/g, '--')}-${vgLv[2].replace(/-/g, '--')}`;
    return ix.byName.get(dmName) ?? null;
  }
  return null;
}
