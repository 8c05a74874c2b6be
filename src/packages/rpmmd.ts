/**
 * rpm-md repositories read directly: repodata/repomd.xml → primary (gz, zst
 * or xz), and filelists only when a file requirement needs it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { cap, parseReq, type Cap, type Op, type Req } from './deps.js';
import { decompress } from './decompress.js';
import type { Package, PoolSource } from './pool.js';
import type { Evr } from './version.js';

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

function entryEvr(tag: string): Evr | null {
  const ver = attr(tag, 'ver');
  if (ver === null) return null;
  const epoch = attr(tag, 'epoch');
  return { epoch: epoch ? Number(epoch) || 0 : 0, version: ver, release: attr(tag, 'rel') };
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

function capsOf(block: string, section: string): Cap[] {
  const out: Cap[] = [];
  for (const tag of entries(block, section)) {
    const name = attr(tag, 'name');
    if (!name) continue;
    const flags = attr(tag, 'flags');
    out.push(flags && OPS.has(flags) ? { name, op: flags as Op, evr: entryEvr(tag) } : cap(name));
  }
  return out;
}

function reqsOf(block: string, section: string, warnings: string[], pkgName: string): Req[] {
  const out: Req[] = [];
  for (const tag of entries(block, section)) {
    const name = attr(tag, 'name');
    if (!name || name.startsWith('rpmlib(')) continue; // rpm's own feature flags, not packages
    if (name.startsWith('(')) {
      const r = parseReq(name);
      if (r.ok) out.push(r.req);
      else warnings.push(`${pkgName}: ${r.error}; requirement ignored`);
      continue;
    }
    const flags = attr(tag, 'flags');
    out.push({ kind: 'cap', cap: flags && OPS.has(flags) ? { name, op: flags as Op, evr: entryEvr(tag) } : cap(name) });
  }
  return out;
}

function tagText(block: string, tag: string): string | null {
  const s = block.indexOf(`<${tag}>`);
  if (s < 0) return null;
  const e = block.indexOf(`</${tag}>`, s);
  return e < 0 ? null : unescapeXml(block.slice(s + tag.length + 2, e));
}

export function parsePrimary(xml: string, repoName: string, what = 'primary.xml'): { packages: Omit<Package, 'id'>[]; warnings: string[] } {
  const warnings: string[] = [];
  const packages: Omit<Package, 'id'>[] = [];
  if (!/<metadata[\s>]/.test(xml)) throw new InputError(`${what}: not rpm-md primary metadata (no <metadata> element)`, 'refresh or rebuild the repository metadata');
  if (!/<\/metadata>\s*$/.test(xml)) throw new InputError(`${what}: truncated (no closing </metadata>)`, 'refresh or rebuild the repository metadata');
  let i = 0;
  for (;;) {
    const s = xml.indexOf('<package ', i);
    if (s < 0) break;
    const e = xml.indexOf('</package>', s);
    if (e < 0) throw new InputError(`${what}: truncated inside a <package> element`, 'refresh or rebuild the repository metadata');
    const block = xml.slice(s, e);
    i = e + 10;
    const name = tagText(block, 'name');
    const arch = tagText(block, 'arch');
    const vtag = /<version [^>]*\/>/.exec(block)?.[0];
    if (!name || !arch || !vtag) {
      warnings.push(`${what}: a package without name, arch or version was skipped`);
      continue;
    }
    if (arch === 'src' || arch === 'nosrc') continue;
    const sizeTag = /<size [^>]*\/>/.exec(block)?.[0] ?? '';
    const files: string[] = [];
    for (const m of block.matchAll(/<file(?: type="(?:dir|ghost)")?>([^<]*)<\/file>/g)) files.push(unescapeXml(m[1]!));
    packages.push({
      name,
      arch,
      evr: entryEvr(vtag) ?? { epoch: 0, version: '0', release: null },
      installSize: Number(attr(sizeTag, 'installed') ?? 0) || 0,
      provides: capsOf(block, 'provides'),
      requires: reqsOf(block, 'requires', warnings, name),
      recommends: reqsOf(block, 'recommends', warnings, name),
      obsoletes: capsOf(block, 'obsoletes'),
      conflicts: capsOf(block, 'conflicts'),
      files,
      repo: repoName,
      essential: false,
    });
  }
  return { packages, warnings };
}

/** file → package keys ("name-evr.arch"), for the wanted files only. */
export function parseFilelists(xml: string, wanted: Set<string>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let i = 0;
  for (;;) {
    const s = xml.indexOf('<package ', i);
    if (s < 0) break;
    const e = xml.indexOf('</package>', s);
    if (e < 0) break;
    const block = xml.slice(s, e);
    i = e + 10;
    const head = block.slice(0, block.indexOf('>') + 1);
    const vtag = /<version [^>]*\/>/.exec(block)?.[0] ?? '';
    const evr = entryEvr(vtag);
    const key = `${attr(head, 'name')}-${evr ? `${evr.epoch ? `${evr.epoch}:` : ''}${evr.version}${evr.release !== null ? `-${evr.release}` : ''}` : ''}.${attr(head, 'arch')}`;
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
  const packages: Omit<Package, 'id'>[] = [];
  const warnings: string[] = [];
  for (const meta of metas) {
    const xml = await readMetadataFile(meta.repo, meta.primary);
    const r = parsePrimary(xml, meta.repo.name, path.join(meta.repo.dir, meta.primary.href));
    for (const p of r.packages) packages.push(p);
    warnings.push(...r.warnings);
  }
  const source: PoolSource = { scheme: 'rpm', arch, packages, loadFiles: rpmFileLoader(metas) };
  return { source, metas, warnings };
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
