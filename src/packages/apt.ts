/**
 * Debian/Ubuntu metadata from `apt-cache dumpavail`: Depends and Pre-Depends
 * (with `|` alternatives), versioned Provides, architecture qualifiers and
 * Essential, into the shared pool model.
 */
import { cap, reqToString, type Cap, type Op, type Req } from './deps.js';
import { PoolBuilder, type PackedPool, type PoolSource } from './pool.js';
import { formatEvr } from './version.js';
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

export interface DebStanza {
  name: string;
  version: string;
  arch: string;
  fields: Map<string, string>;
}

/** Stanzas of a Packages file / dumpavail output, for this architecture and "all". */
export function* readDebStanzas(text: string, arch = 'amd64', warnings: string[] = []): Generator<DebStanza> {
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
    if (wanted.has(pkgArch)) yield { name, version, arch: pkgArch, fields };
  }
}

/** Packs Debian stanzas into a pool: Pre-Depends and Depends are requirements, `a | b` an "or". */
export function parseDebPackages(text: string, arch = 'amd64', repo = 'apt'): { data: PackedPool; warnings: string[] } {
  const warnings: string[] = [];
  const b = new PoolBuilder('deb', arch);
  for (const st of readDebStanzas(text, arch, warnings)) {
    const f = st.fields;
    const where = `${st.name} ${st.version}`;
    b.add({
      name: st.name,
      arch: st.arch,
      evr: st.version,
      installSize: (Number(f.get('Installed-Size') ?? 0) || 0) * 1024,
      repo,
      essential: f.get('Essential') === 'yes',
      priority: PRIORITY[f.get('Priority') ?? ''] ?? 0,
    });
    for (const c of parseDebProvides(f.get('Provides') ?? '')) b.provide(c.name, c.op, c.evr ? formatEvr(c.evr) : null);
    for (const r of parseDebDepends(f.get('Pre-Depends') ?? '', warnings, where)) b.require(reqToString(r));
    for (const r of parseDebDepends(f.get('Depends') ?? '', warnings, where)) b.require(reqToString(r));
    for (const r of parseDebDepends(f.get('Recommends') ?? '', warnings, where)) b.recommend(reqToString(r));
  }
  return { data: b.finish(), warnings };
}

export async function loadAptMetadata(runner: Runner, arch = 'amd64'): Promise<{ source: PoolSource; warnings: string[] }> {
  // Without the dpkg status: installed versions that no repository offers any more
  // (a removed backports source) are not candidates for an image built from the repositories.
  const text = (await runner.run(['apt-cache', '-o', 'Dir::State::status=/dev/null', 'dumpavail'], { timeoutMs: 120_000 })).stdout;
  const { data, warnings } = parseDebPackages(text, arch);
  return { source: { data }, warnings };
}
