/**
 * `lsblk --json --bytes --output-all` → a flat, de-duplicated device graph.
 * lsblk prints a tree in which a device with several parents (an LV over two
 * PVs, an md array over two disks) appears once under each parent; we keep one
 * node per KNAME and record all its parents. Every column is optional: column
 * sets differ between util-linux versions, and older ones say MOUNTPOINT.
 */
import { parsed, parseFailure, type Parsed } from '../../errors.js';

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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return parseFailure(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(json) || !Array.isArray(json.blockdevices)) {
    return parseFailure('no "blockdevices" list: not the output of lsblk --json');
  }
  const devices = new Map<string, BlockDevice>();
  const warnings: string[] = [];
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
      if (!dev.parents.includes(parent)) dev.parents.push(parent);
      const p = devices.get(parent);
      if (p && !p.children.includes(kname)) p.children.push(kname);
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

/** Finds the device a path, UUID=, LABEL=, PARTUUID=, PARTLABEL= spec or MAJ:MIN names. */
export function findDevice(graph: BlockGraph, spec: string): BlockDevice | null {
  const s = spec.trim().replace(/^"(.*)"$/, '$1');
  const eq = s.indexOf('=');
  if (eq > 0 && /^(UUID|LABEL|PARTUUID|PARTLABEL|ID)$/i.test(s.slice(0, eq))) {
    const key = s.slice(0, eq).toUpperCase();
    const value = s.slice(eq + 1);
    for (const d of graph.devices.values()) {
      if (key === 'UUID' && d.uuid?.toLowerCase() === value.toLowerCase()) return d;
      if (key === 'LABEL' && d.label === value) return d;
      if (key === 'PARTUUID' && d.partuuid?.toLowerCase() === value.toLowerCase()) return d;
      if (key === 'PARTLABEL' && d.partlabel === value) return d;
    }
    return null;
  }
  if (/^\d+:\d+$/.test(s)) {
    for (const d of graph.devices.values()) if (d.majMin === s) return d;
    return null;
  }
  const byId = /^\/dev\/disk\/by-(uuid|label|partuuid|partlabel)\/(.+)$/.exec(s);
  if (byId?.[1] && byId[2]) {
    const value = byId[2].replace(/\\x2f/g, '/');
    return findDevice(graph, `${byId[1].toUpperCase()}=${value}`);
  }
  for (const d of graph.devices.values()) {
    if (d.path === s) return d;
  }
  const base = s.replace(/^\/dev\/(mapper\/)?/, '');
  for (const d of graph.devices.values()) {
    if (d.kname === base || d.name === base) return d;
  }
  // /dev/VG/LV → the dm name VG-LV, with dashes inside names doubled.
  const vgLv = /^\/dev\/([^/]+)\/([^/]+)$/.exec(s);
  if (vgLv?.[1] && vgLv[2]) {
    const dmName = `${vgLv[1].replace(/-/g, '--')}-${vgLv[2].replace(/-/g, '--')}`;
    for (const d of graph.devices.values()) if (d.name === dmName) return d;
  }
  return null;
}
