/**
 * Debian/Ubuntu metadata from `apt-cache dumpavail`: Depends and Pre-Depends
 * (with `|` alternatives), versioned Provides, architecture qualifiers and
 * Essential, into the shared pool model.
 */
import { cap, type Cap, type Op, type Req } from './deps.js';
import type { Package, PoolSource } from './pool.js';
import { parseEvr } from './version.js';
import type { Runner } from '../system/run.js';

const PRIORITY: Record<string, number> = { required: 5, important: 4, standard: 3, optional: 2, extra: 1 };

const OPS: Record<string, Op> = { '<<': 'LT', '<=': 'LE', '=': 'EQ', '>=': 'GE', '>>': 'GT', '<': 'LE', '>': 'GE' };

/** "name[:arch] [(op version)]" → Cap; multi-arch qualifiers are dropped (one architecture plus all). */
function debCap(text: string): Cap | null {
  const m = /^\s*([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>)?\s*$/i.exec(text);
  if (!m?.[1]) return null;
  return m[2] && m[3] ? cap(m[1], OPS[m[2]]!, m[3]) : cap(m[1]);
}

/** A Depends-style field: comma-separated groups of `|` alternatives. */
export function parseDebDepends(field: string, warnings: string[], where: string): Req[] {
  const out: Req[] = [];
  for (const group of field.split(',')) {
    if (!group.trim()) continue;
    const alts: Req[] = [];
    for (const alt of group.split('|')) {
      const c = debCap(alt);
      if (c) alts.push({ kind: 'cap', cap: c });
      else warnings.push(`${where}: cannot read dependency "${alt.trim()}", ignored`);
    }
    if (alts.length === 1) out.push(alts[0]!);
    else if (alts.length > 1) out.push({ kind: 'or', args: alts });
  }
  return out;
}

export function parseDebProvides(field: string): Cap[] {
  return field
    .split(',')
    .map((p) => debCap(p))
    .filter((c): c is Cap => c !== null);
}

/** Stanzas of a Packages file / dumpavail output. */
export function parseDebPackages(text: string, arch = 'amd64', repo = 'apt'): { packages: Omit<Package, 'id'>[]; warnings: string[] } {
  const packages: Omit<Package, 'id'>[] = [];
  const warnings: string[] = [];
  const wanted = new Set([arch, 'all']);
  for (const stanza of text.split(/\n\s*\n/)) {
    if (!stanza.trim()) continue;
    const fields = new Map<string, string>();
    let last = '';
    for (const line of stanza.split('\n')) {
      if (line.startsWith(' ') || line.startsWith('\t')) {
        if (last) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon);
      fields.set(last, line.slice(colon + 1).trim());
    }
    const name = fields.get('Package');
    const version = fields.get('Version');
    const pkgArch = fields.get('Architecture') ?? 'all';
    if (!name || !version) {
      warnings.push('a stanza without Package or Version was skipped');
      continue;
    }
    if (!wanted.has(pkgArch)) continue;
    const where = `${name} ${version}`;
    const requires = [
      ...parseDebDepends(fields.get('Pre-Depends') ?? '', warnings, where),
      ...parseDebDepends(fields.get('Depends') ?? '', warnings, where),
    ];
    packages.push({
      name,
      arch: pkgArch,
      evr: parseEvr(version),
      installSize: (Number(fields.get('Installed-Size') ?? 0) || 0) * 1024,
      provides: parseDebProvides(fields.get('Provides') ?? ''),
      requires,
      recommends: parseDebDepends(fields.get('Recommends') ?? '', warnings, where),
      obsoletes: [],
      conflicts: [...parseDebProvides(fields.get('Conflicts') ?? ''), ...parseDebProvides(fields.get('Breaks') ?? '')],
      files: [],
      repo,
      essential: fields.get('Essential') === 'yes',
      priority: PRIORITY[fields.get('Priority') ?? ''] ?? 0,
    });
  }
  return { packages, warnings };
}

export async function loadAptMetadata(runner: Runner, arch = 'amd64'): Promise<{ source: PoolSource; warnings: string[]; text: string }> {
  const text = (await runner.run(['apt-cache', 'dumpavail'], { timeoutMs: 120_000 })).stdout;
  const { packages, warnings } = parseDebPackages(text, arch);
  return { source: { scheme: 'deb', arch, packages }, warnings, text };
}
