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
  const warnings: string[] = [];
  let last: string | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!line.trim() || /^No devices found/i.test(line.trim())) return;
    // "name: start length target args"; multi-segment tables repeat the name
    // in newer dmsetup, older ones indent the continuation.
    const m = /^(\S+):\s+\d+\s+\d+\s+(\S+)/.exec(line);
    if (m) {
      last = m[1]!;
      const t = tables.get(last) ?? [];
      if (!t.includes(m[2]!)) t.push(m[2]!);
      tables.set(last, t);
      return;
    }
    const cont = /^\s+\d+\s+\d+\s+(\S+)/.exec(line);
    if (cont && last) {
      const t = tables.get(last)!;
      if (!t.includes(cont[1]!)) t.push(cont[1]!);
      return;
    }
    warnings.push(`dmsetup-table line ${i + 1}: not a table line, ignored`);
  });
  return parsed(tables, warnings);
}
