/** `findmnt --json --output-all` → a flat list of mounts. findmnt prints nothing when nothing matches. */
import { parsed, parseFailure, type Parsed } from '../../errors.js';

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

export function splitSource(source: string): { source: string; subpath: string | null } {
  const m = /^(.*?)\[(\/[^\]]*)\]$/.exec(source);
  return m?.[1] ? { source: m[1], subpath: m[2] ?? null } : { source, subpath: null };
}

export function parseFindmnt(text: string): Parsed<Mount[]> {
  if (!text.trim()) return parseFailure('findmnt printed nothing (no mounts matched)');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return parseFailure(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
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
