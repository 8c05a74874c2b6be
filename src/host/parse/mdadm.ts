/** `mdadm --detail --scan` / mdadm.conf ARRAY lines, and /proc/mdstat. */
import { parsed, type Parsed } from '../../errors.js';

export interface MdArray {
  device: string;
  metadata: string | null;
  uuid: string | null;
  name: string | null;
  /** For IMSM/DDF member arrays: the container they live in. */
  container: string | null;
}

export function parseMdadmScan(text: string, name = 'mdadm-detail-scan'): Parsed<MdArray[]> {
  const arrays: MdArray[] = [];
  const warnings: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    if (!line.startsWith('ARRAY')) return; // DEVICE, MAILADDR, HOMEHOST … are not arrays
    const parts = line.split(/\s+/);
    const device = parts[1];
    if (!device || device.includes('=')) {
      // "ARRAY metadata=imsm UUID=…" (a container line without a device) is valid in mdadm.conf.
      if (!device) {
        warnings.push(`${name} line ${i + 1}: ARRAY without a device, ignored`);
        return;
      }
    }
    const kv = new Map<string, string>();
    for (const p of parts.slice(device && !device.includes('=') ? 2 : 1)) {
      const eq = p.indexOf('=');
      if (eq > 0) kv.set(p.slice(0, eq).toLowerCase(), p.slice(eq + 1));
    }
    arrays.push({
      device: device && !device.includes('=') ? device : '',
      metadata: kv.get('metadata') ?? null,
      uuid: kv.get('uuid') ?? null,
      name: kv.get('name') ?? null,
      container: kv.get('container') ?? null,
    });
  });
  return parsed(arrays, warnings);
}

export interface MdstatArray {
  name: string;
  level: string | null;
  members: string[];
  external: string | null;
}

export function parseMdstat(text: string): Parsed<MdstatArray[]> {
  const arrays: MdstatArray[] = [];
  for (const raw of text.split('\n')) {
    const m = /^(md\w+)\s*:\s*(\S+)\s*(?:\((?:auto-)?read-only\)\s*)?(.*)$/.exec(raw.trim());
    if (!m) continue;
    const rest = (m[3] ?? '').split(/\s+/).filter(Boolean);
    let level: string | null = null;
    let external: string | null = null;
    const members: string[] = [];
    for (const tok of rest) {
      if (/^(raid\d+|linear|multipath|faulty)$/.test(tok)) level = tok;
      else if (/^super$/.test(tok)) continue;
      else if (/^external:/.test(tok)) external = tok.slice('external:'.length);
      else {
        const mem = /^([\w.-]+)\[\d+\]/.exec(tok);
        if (mem?.[1]) members.push(mem[1]);
      }
    }
    arrays.push({ name: m[1]!, level, members, external });
  }
  return parsed(arrays);
}
