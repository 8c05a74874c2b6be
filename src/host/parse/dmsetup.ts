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

export function parseDmsetupTable(text: string): Parsed<Map<string, string[]>> {
  const tables = new Map<string, string[]>();
  const seen = new Map<string, Set<string>>();
  const warnings: string[] = [];
  let last: string | null = null;
  // A set per device beside the ordered list: a table of thousands of segments stays linear.
  const add = (name: string, target: string) => {
    let set = seen.get(name);
    if (!set) {
      seen.set(name, (set = new Set()));
      tables.set(name, []);
    }
    if (!set.has(target)) {
      set.add(target);
      tables.get(name)!.push(target);
    }
  };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!line.trim() || /^No devices found/i.test(line.trim())) return;
    // "name: start length target args"; multi-segment tables repeat the name
    // in newer dmsetup, older ones indent the continuation.
    const m = /^(\S+):\s+\d+\s+\d+\s+(\S+)/.exec(line);
    if (m) {
      last = m[1]!;
      add(last, m[2]!);
      return;
    }
    const cont = /^\s+\d+\s+\d+\s+(\S+)/.exec(line);
    if (cont && last) {
      add(last, cont[1]!);
      return;
    }
    warnings.push(`dmsetup-table line ${i + 1}: not a table line, ignored`);
  });
  return parsed(tables, warnings);
}
