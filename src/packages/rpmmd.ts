/**
 * rpm-md repositories read directly: repodata/repomd.xml → primary (gz, zst
 * or xz), and filelists only when a file requirement needs it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { Op } from './deps.js';
import { decompress } from '../decompress.js';
import { PoolBuilder, type PoolSource } from './pool.js';

export interface RepoRef {
  name: string;
  dir: string;
}

interface RepomdEntry {
  type: string;
  href: string;
  checksum: string;
}

export interface RpmRepoMeta {
  repo: RepoRef;
  primary: RepomdEntry;
  filelists: RepomdEntry | null;
}

function unescapeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    switch (e) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function attr(tag: string, name: string): string | null {
  const i = tag.indexOf(` ${name}="`);
  if (i < 0) return null;
  const start = i + name.length + 3;
  const end = tag.indexOf('"', start);
  return end < 0 ? null : unescapeXml(tag.slice(start, end));
}

export async function readRepomd(repo: RepoRef): Promise<RpmRepoMeta> {
  const file = path.join(repo.dir, 'repodata', 'repomd.xml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError(`${file} is missing: ${repo.dir} is not an rpm-md repository`, 'point --repo at a directory that holds repodata/ (createrepo_c DIR makes one)');
  }
  const entries: RepomdEntry[] = [];
  for (const m of text.matchAll(/<data\s+type="([^"]+)"\s*>([\s\S]*?)<\/data>/g)) {
    const body = m[2]!;
    const href = /<location\s[^>]*href="([^"]+)"/.exec(body)?.[1];
    const checksum = /<checksum[^>]*>([^<]+)<\/checksum>/.exec(body)?.[1];
    if (href && checksum) entries.push({ type: m[1]!, href: unescapeXml(href), checksum: checksum.trim() });
  }
  const primary = entries.find((e) => e.type === 'primary');
  if (!primary) {
    throw new InputError(`${file} has no "primary" entry${/<\/repomd>/.test(text) ? '' : ' (the file looks truncated)'}`, 'rebuild the repository metadata (createrepo_c) or refresh it');
  }
  return { repo, primary, filelists: entries.find((e) => e.type === 'filelists') ?? null };
}

async function readMetadataFile(repo: RepoRef, entry: RepomdEntry): Promise<string> {
  const file = path.join(repo.dir, entry.href);
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch {
    throw new InputError(`${file} (named in repomd.xml) is missing`, 'refresh or rebuild the repository metadata');
  }
  return (await decompress(raw, file)).toString('utf8');
}

const OPS = new Set(['LT', 'LE', 'EQ', 'GE', 'GT']);
const OP_TEXT: Record<string, string> = { LT: '<', LE: '<=', EQ: '=', GE: '>=', GT: '>' };

/** The entry's EVR as "[epoch:]ver[-rel]", or null when unversioned. */
function entryEvrText(tag: string): string | null {
  const ver = attr(tag, 'ver');
  if (ver === null) return null;
  const epoch = attr(tag, 'epoch');
  const rel = attr(tag, 'rel');
  return `${epoch && epoch !== '0' ? `${epoch}:` : ''}${ver}${rel !== null ? `-${rel}` : ''}`;
}

function entries(block: string, section: string): string[] {
  const open = block.indexOf(`<rpm:${section}>`);
  if (open < 0) return [];
  const close = block.indexOf(`</rpm:${section}>`, open);
  const body = block.slice(open, close < 0 ? undefined : close);
  const out: string[] = [];
  let i = 0;
  for (;;) {
    const s = body.indexOf('<rpm:entry ', i);
    if (s < 0) break;
    const e = body.indexOf('>', s);
    if (e < 0) break;
    out.push(body.slice(s, e + 1));
    i = e + 1;
  }
  return out;
}

/** Each entry as rpm prints a dependency: "name", "name >= 1.0-1" or a rich "(a or b)". */
function depTexts(block: string, section: string): string[] {
  const out: string[] = [];
  for (const tag of entries(block, section)) {
    const name = attr(tag, 'name');
    if (!name || name.startsWith('rpmlib(')) continue; // rpm's own feature flags, not packages
    const flags = attr(tag, 'flags');
    const evr = flags && OPS.has(flags) ? entryEvrText(tag) : null;
    out.push(evr !== null ? `${name} ${OP_TEXT[flags!]} ${evr}` : name);
  }
  return out;
}

function tagText(block: string, tag: string): string | null {
  const s = block.indexOf(`<${tag}>`);
  if (s < 0) return null;
  const e = block.indexOf(`</${tag}>`, s);
  return e < 0 ? null : unescapeXml(block.slice(s + tag.length + 2, e));
}

/** The <package> elements of a metadata file; a truncated one is an error in primary, the end in file lists. */
function* packageBlocks(xml: string, what: string, strict: boolean): Generator<string> {
  let i = 0;
  for (;;) {
    const s = xml.indexOf('<package ', i);
    if (s < 0) return;
    const e = xml.indexOf('</package>', s);
    if (e < 0) {
      if (strict) throw new InputError(`${what}: truncated inside a <package> element`, 'refresh or rebuild the repository metadata');
      return;
    }
    i = e + 10;
    yield xml.slice(s, e);
  }
}

/** Appends every binary package of a primary.xml to the builder. */
export function parsePrimary(xml: string, repoName: string, builder: PoolBuilder, what = 'primary.xml'): { warnings: string[] } {
  const warnings: string[] = [];
  if (!/<metadata[\s>]/.test(xml)) throw new InputError(`${what}: not rpm-md primary metadata (no <metadata> element)`, 'refresh or rebuild the repository metadata');
  if (!/<\/metadata>\s*$/.test(xml)) throw new InputError(`${what}: truncated (no closing </metadata>)`, 'refresh or rebuild the repository metadata');
  for (const block of packageBlocks(xml, what, true)) {
    const name = tagText(block, 'name');
    const arch = tagText(block, 'arch');
    const vtag = /<version [^>]*\/>/.exec(block)?.[0];
    if (!name || !arch || !vtag) {
      warnings.push(`${what}: a package without name, arch or version was skipped`);
      continue;
    }
    if (arch === 'src' || arch === 'nosrc') continue;
    const sizeTag = /<size [^>]*\/>/.exec(block)?.[0] ?? '';
    builder.add({ name, arch, evr: entryEvrText(vtag) ?? '0', installSize: Number(attr(sizeTag, 'installed') ?? 0) || 0, repo: repoName });
    for (const tag of entries(block, 'provides')) {
      const pname = attr(tag, 'name');
      if (!pname) continue;
      const flags = attr(tag, 'flags');
      builder.provide(pname, flags && OPS.has(flags) ? (flags as Op) : null, flags && OPS.has(flags) ? entryEvrText(tag) : null);
    }
    for (const t of depTexts(block, 'requires')) builder.require(t);
    for (const t of depTexts(block, 'recommends')) builder.recommend(t);
    for (const t of depTexts(block, 'obsoletes')) builder.obsolete(t);
    for (const m of block.matchAll(/<file(?: type="(?:dir|ghost)")?>([^<]*)<\/file>/g)) builder.file(unescapeXml(m[1]!));
  }
  return { warnings };
}

/** file → package keys ("name-evr.arch"), for the wanted files only. */
export function parseFilelists(xml: string, wanted: Set<string>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const block of packageBlocks(xml, 'filelists.xml', false)) {
    const head = block.slice(0, block.indexOf('>') + 1);
    const vtag = /<version [^>]*\/>/.exec(block)?.[0] ?? '';
    const key = `${attr(head, 'name')}-${entryEvrText(vtag) ?? ''}.${attr(head, 'arch')}`;
    for (const m of block.matchAll(/<file[^>]*>([^<]*)<\/file>/g)) {
      const f = unescapeXml(m[1]!);
      if (!wanted.has(f)) continue;
      const l = found.get(f);
      if (l) l.push(key);
      else found.set(f, [key]);
    }
  }
  return found;
}

/** Every repository's primary metadata as one pool source; file lists stay on disk until needed. */
export async function loadRpmRepos(repos: RepoRef[], arch = 'x86_64'): Promise<{ source: PoolSource; metas: RpmRepoMeta[]; warnings: string[] }> {
  const metas = await Promise.all(repos.map(readRepomd));
  const builder = new PoolBuilder('rpm', arch);
  const warnings: string[] = [];
  for (const meta of metas) {
    const xml = await readMetadataFile(meta.repo, meta.primary);
    warnings.push(...parsePrimary(xml, meta.repo.name, builder, path.join(meta.repo.dir, meta.primary.href)).warnings);
  }
  return { source: { data: builder.finish(), loadFiles: rpmFileLoader(metas) }, metas, warnings };
}

/** File lists stay on disk until a file requirement that primary cannot answer needs them. */
export function rpmFileLoader(metas: RpmRepoMeta[]): NonNullable<PoolSource['loadFiles']> {
  return async (wanted) => {
    const all = new Map<string, string[]>();
    for (const meta of metas) {
      if (!meta.filelists) continue;
      for (const [f, keys] of parseFilelists(await readMetadataFile(meta.repo, meta.filelists), wanted)) all.set(f, [...(all.get(f) ?? []), ...keys]);
    }
    return all;
  };
}
