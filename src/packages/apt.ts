/**
 * Debian/Ubuntu metadata from `apt-cache dumpavail`: Depends and Pre-Depends
 * (with `|` alternatives), versioned Provides, architecture qualifiers and
 * Essential, into the shared pool model.
 */
import { cap, reqToString, type Cap, type Op, type Req } from './deps.js';
import { PoolBuilder, stringOf, type PackedPool, type PoolSource } from './pool.js';
import { formatEvr } from './version.js';
import type { Runner } from '../system/run.js';
import { WizardError } from '../errors.js';

const PRIORITY: Record<string, number> = { required: 5, important: 4, standard: 3, optional: 2, extra: 1 };

/** Own keys only: "constructor" or "__proto__" in a Priority field is no rank. */
function priorityRank(field: string | undefined): number {
  return field !== undefined && Object.hasOwn(PRIORITY, field) ? PRIORITY[field]! : 0;
}

const OPS: Record<string, Op> = { '<<': 'LT', '<=': 'LE', '=': 'EQ', '>=': 'GE', '>>': 'GT', '<': 'LE', '>': 'GE' };

const DEB_NAME = /^[a-z0-9][a-z0-9+.-]*/i;
const DEB_ARCH = /^:[a-z0-9-]+/i;
const DEB_RELATION = /^(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)$/;

function skipSpace(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return i;
}

/** The index just past a bracketed group that starts at i ("(…)", "[…]", "<…>"), or -1 when it does not close. */
function pastGroup(s: string, i: number, close: string): number {
  const end = s.indexOf(close, i + 1);
  return end < 0 ? -1 : end + 1;
}

/**
 * The capability a multi-arch qualified name stands for, in a pool of one
 * architecture (the native one) plus "all", which is what apt sees without
 * `dpkg --add-architecture`: "name:native" and "name:<native arch>" are plain
 * "name"; "name:any" stays "name:any", which only Multi-Arch: allowed
 * packages provide (debProvides adds it); any other architecture stays
 * qualified, which nothing in the pool provides, as apt finds no package of
 * an architecture it is not configured for.
 */
export function debQualified(name: string, qualifier: string | null, native: string): string {
  if (qualifier === null || qualifier === 'native' || qualifier === native) return name;
  return `${name}:${qualifier}`;
}

/**
 * "name[:arch] [(op version)] [[archs]] [<profiles>]" → Cap. Read left to
 * right instead of with one regular expression: runs of spaces between
 * optional parts made that backtrack for minutes on a few hundred spaces.
 */
function debCap(text: string, native: string): Cap | null {
  const s = text.trim();
  const bare = DEB_NAME.exec(s)?.[0];
  if (!bare) return null;
  let i = bare.length;
  const qualifier = DEB_ARCH.exec(s.slice(i))?.[0] ?? null;
  i += qualifier?.length ?? 0;
  const name = debQualified(bare, qualifier ? qualifier.slice(1).toLowerCase() : null, native);
  i = skipSpace(s, i);
  let relation: RegExpExecArray | null = null;
  if (s[i] === '(') {
    const end = pastGroup(s, i, ')');
    if (end < 0) return null;
    relation = DEB_RELATION.exec(s.slice(i + 1, end - 1).trim());
    if (!relation) return null;
    i = skipSpace(s, end);
  }
  for (const [open, close] of [['[', ']'], ['<', '>']] as const) {
    if (s[i] !== open) continue;
    const end = pastGroup(s, i, close);
    if (end < 0) return null;
    i = skipSpace(s, end);
  }
  if (i !== s.length) return null;
  return relation ? cap(name, OPS[relation[1]!]!, relation[2]!) : cap(name);
}

/** A Depends-style field: comma-separated groups of `|` alternatives; `native` is the dpkg architecture the qualifiers are read against. */
export function parseDebDepends(field: string, warnings: string[], where: string, native = 'amd64'): Req[] {
  const out: Req[] = [];
  for (const group of field.split(',')) {
    if (!group.trim()) continue;
    const alts: Req[] = [];
    for (const alt of group.split('|')) {
      const c = debCap(alt, native);
      if (c) alts.push({ kind: 'cap', cap: c });
      else warnings.push(`${where}: cannot read dependency "${alt.trim()}", ignored`);
    }
    if (alts.length === 1) out.push(alts[0]!);
    else if (alts.length > 1) out.push({ kind: 'or', args: alts });
  }
  return out;
}

export function parseDebProvides(field: string, native = 'amd64'): Cap[] {
  return field
    .split(',')
    .map((p) => debCap(p, native))
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

/**
 * A stanza's Provides, plus "name:any" at its own version when it is
 * Multi-Arch: allowed: that is what a "name:any" dependency asks for (apt adds
 * the same implicit provide). Multi-Arch: foreign and same only matter between
 * architectures, and the pool holds one.
 */
export function debProvides(st: DebStanza, native: string): Cap[] {
  const own = parseDebProvides(st.fields.get('Provides') ?? '', native);
  return st.fields.get('Multi-Arch') === 'allowed' ? [cap(`${st.name}:any`, 'EQ', st.version), ...own] : own;
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
      priority: priorityRank(f.get('Priority')),
    });
    for (const c of debProvides(st, arch)) b.provide(c.name, c.op, c.evr ? formatEvr(c.evr) : null);
    for (const r of parseDebDepends(f.get('Pre-Depends') ?? '', warnings, where, arch)) b.require(reqToString(r));
    for (const r of parseDebDepends(f.get('Depends') ?? '', warnings, where, arch)) b.require(reqToString(r));
    for (const r of parseDebDepends(f.get('Recommends') ?? '', warnings, where, arch)) b.recommend(reqToString(r));
  }
  return { data: b.finish(), warnings };
}

/**
 * dumpavail prints every list apt has, for each architecture its sources
 * name: the native one, any added with `dpkg --add-architecture`, and any a
 * source line asks for with [arch=…]. So a foreign target needs no option
 * here, only its lists; readDebStanzas keeps that architecture and "all".
 */
export async function loadAptMetadata(runner: Runner, arch = 'amd64'): Promise<{ source: PoolSource; warnings: string[] }> {
  // Without the dpkg status: installed versions that no repository offers any more
  // (a removed backports source) are not candidates for an image built from the repositories.
  const text = (await runner.run(['apt-cache', '-o', 'Dir::State::status=/dev/null', 'dumpavail'], { timeoutMs: 120_000 })).stdout;
  const { data, warnings } = parseDebPackages(text, arch);
  // Only "all" packages means the architecture's own lists are missing: every binary would be "not found".
  if (!data.archId.some((id) => stringOf(data, id) === arch)) {
    throw new WizardError(
      `apt has no package lists for ${arch}`, { hint: `add the architecture and download its lists (dpkg --add-architecture ${arch} && apt-get update), or pass --arch for an architecture apt has lists for` },
    );
  }
  return { source: { data }, warnings };
}
