/** `findmnt --json --output-all` → a flat list of mounts. findmnt prints nothing when nothing matches. */
import { parsed, parseFailure, type Parsed } from '../../errors.js';
import { parseJsonText } from './json.js';

export interface Mount {
  target: string;
  /** The source device or remote (btrfs subvolume suffix `[/subvol]` removed). */
  source: string;
  /** The `[/subvol]` part of a btrfs source, or FSROOT. */
  fsroot: string | null;
  fstype: string;
  options: string;
  majMin: string | null;
  uuid: string | null;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v.length ? v : null);

/**
 * "/dev/sda2[/subvol]" → the device and the bracketed path. A scan rather than
 * a regular expression: /^(.*?)\[(\/[^\]]*)\]$/ backtracks quadratically on
 * a long source full of "[/".
 */
export function splitSource(source: string): { source: string; subpath: string | null } {
  if (!source.endsWith(']')) return { source, subpath: null };
  // The bracket must come after the last "]" before the final one, and be the first "[/" there.
  const from = source.lastIndexOf(']', source.length - 2) + 1;
  const open = source.indexOf('[/', from);
  if (open <= 0 || open >= source.length - 1) return { source, subpath: null };
  return { source: source.slice(0, open), subpath: source.slice(open + 1, -1) };
}

export function parseFindmnt(text: string): Parsed<Mount[]> {
  if (!text.trim()) return parseFailure('findmnt printed nothing (no mounts matched)');
  const r = parseJsonText(text);
  if (!r.ok) return r;
  const json = r.value;
  if (!isObject(json) || !Array.isArray(json.filesystems)) {
    return parseFailure('no "filesystems" list: not the output of findmnt --json');
  }
  const mounts: Mount[] = [];
  const warnings: string[] = [];
  const visit = (node: unknown, depth: number) => {
    if (!isObject(node) || depth > 256) return;
    const target = str(node.target);
    const rawSource = str(node.source);
    if (target && rawSource) {
      const { source, subpath } = splitSource(rawSource);
      mounts.push({
        target,
        source,
        fsroot: subpath ?? str(node.fsroot),
        fstype: str(node.fstype) ?? '',
        options: str(node.options) ?? str(node['vfs-options']) ?? '',
        majMin: str(node['maj:min']),
        uuid: str(node.uuid),
      });
    } else {
      warnings.push('ignored a mount without TARGET or SOURCE');
    }
    if (Array.isArray(node.children)) for (const c of node.children) visit(c, depth + 1);
  };
  for (const fs of json.filesystems) visit(fs, 0);
  return parsed(mounts, warnings);
}

/** The mount that is visible at a target: the last one mounted there wins. */
export function mountAt(mounts: Mount[], target: string): Mount | null {
  let found: Mount | null = null;
  for (const m of mounts) if (m.target === target) found = m;
  return found;
}

/** mountAt for every target at once, for callers that look up many targets. */
export function visibleMounts(mounts: Mount[]): Map<string, Mount> {
  const out = new Map<string, Mount>();
  for (const m of mounts) out.set(m.target, m);
  return out;
}
