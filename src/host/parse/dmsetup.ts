/** `dmsetup table` and `dmsetup info -c --noheadings -o name,uuid,major,minor`. */
import { parsed, type Parsed } from '../../errors.js';

export interface DmDevice {
  name: string;
  uuid: string | null;
  majMin: string | null;
  /** Target types of the table's segments, e.g. ["crypt"], ["thin-pool"]. */
  targets: string[];
}

export function parseDmsetupInfo(text: string): Parsed<Map<string, DmDevice>> {
  const devices = new Map<string, DmDevice>();
  const warnings: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || /^No devices found/i.test(line)) return;
    // name:uuid:major:minor; dm names cannot hold ':', uuids may be empty.
    const m = /^([^:]+):(.*):(\d+):(\d+)$/.exec(line);
    if (!m) {
      warnings.push(`dmsetup-info line ${i + 1}: expected name:uuid:major:minor, ignored`);
      return;
    }
    devices.set(m[1]!, { name: m[1]!, uuid: m[2] || null, majMin: `${m[3]}:${m[4]}`, targets: [] });
  });
  return parsed(devices, warnings);
}

/** One device's table: its targets in order, and for dm-crypt where the encrypted data starts on the device below. */
export interface DmTable {
  /** Target types of the table's segments, e.g. ["crypt"], ["thin-pool"]. */
  targets: string[];
  /**
   * The first crypt segment's <offset> (512-byte sectors): where the data
   * begins on the underlying device. 0 means the data starts at its first
   * sector, with no room before it (a detached header's usual layout).
   */
  cryptOffset: number | null;
}

export function parseDmsetupTable(text: string): Parsed<Map<string, DmTable>> {
  const tables = new Map<string, DmTable>();
  const seen = new Map<string, Set<string>>();
  const warnings: string[] = [];
  let last: string | null = null;
  // A set per device beside the ordered list: a table of thousands of segments stays linear.
  const add = (name: string, target: string, args: string) => {
    let set = seen.get(name);
    if (!set) {
      seen.set(name, (set = new Set()));
      tables.set(name, { targets: [], cryptOffset: null });
    }
    const table = tables.get(name)!;
    if (!set.has(target)) {
      set.add(target);
      table.targets.push(target);
    }
    // crypt: <cipher> <key> <iv_offset> <device> <offset> [<#opt_params> <opt_params>]
    if (target === 'crypt' && table.cryptOffset === null) {
      const offset = args.trim().split(/\s+/)[4];
      if (offset !== undefined && /^\d{1,15}$/.test(offset)) table.cryptOffset = Number(offset);
    }
  };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!line.trim() || /^No devices found/i.test(line.trim())) return;
    // "name: start length target args"; multi-segment tables repeat the name
    // in newer dmsetup, older ones indent the continuation.
    const m = /^(\S+):\s+\d+\s+\d+\s+(\S+)(.*)$/.exec(line);
    if (m) {
      last = m[1]!;
      add(last, m[2]!, m[3]!);
      return;
    }
    const cont = /^\s+\d+\s+\d+\s+(\S+)(.*)$/.exec(line);
    if (cont && last) {
      add(last, cont[1]!, cont[2]!);
      return;
    }
    warnings.push(`dmsetup-table line ${i + 1}: not a table line, ignored`);
  });
  return parsed(tables, warnings);
}
