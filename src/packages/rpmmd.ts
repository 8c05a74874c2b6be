/**
 * rpm-md repositories read directly: repodata/repomd.xml → primary (gz, zst
 * or xz), and filelists only when a file requirement needs it.
 *
 * A repository is another machine's data: every file is read through the
 * rooted reader (no symlinks, no "..", regular files only, size-capped), the
 * files repomd.xml names must match its checksums, and the XML is scanned
 * with indexOf loops rather than backtracking regular expressions so no
 * input makes parsing slower than linear.
 */
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readBeneath } from '../system/rooted.js';
import { PoolBuilder, type PoolSource } from './pool.js';
import { naming, PackageSplitter, REFRESH_HINT, STRING_TEXT, unescapeXml } from './xmltext.js';

export interface RepoRef {
  name: string;
  dir: string;
}

export type ChecksumType = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export interface Checksum {
  type: ChecksumType;
  /** Lower-case hex. */
  value: string;
}

export interface RepomdEntry {
  type: string;
  href: string;
  /** Of the file as stored (compressed), as repomd.xml states it. */
  checksum: Checksum;
}

export interface RpmRepoMeta {
  repo: RepoRef;
  primary: RepomdEntry;
  filelists: RepomdEntry | null;
}


/** Hex digits per checksum type; "sha" is old createrepo's name for sha1. */
const DIGEST_HEX: Record<ChecksumType, number> = { sha1: 40, sha224: 56, sha256: 64, sha384: 96, sha512: 128 };

/** ' name="' for each attribute name: built once, not per call (millions of calls on a cold load). */
const NEEDLES = new Map<string, string>();

function attr(tag: string, name: string): string | null {
  let needle = NEEDLES.get(name);
  if (needle === undefined) NEEDLES.set(name, (needle = ` ${name}="`));
  const i = tag.indexOf(needle);
  if (i < 0) return null;
  const start = i + name.length + 3;
  const end = tag.indexOf('"', start);
  return end < 0 ? null : unescapeXml(tag.slice(start, end));
}

function isTagEnd(c: string | undefined): boolean {
  return c === ' ' || c === '>' || c === '/' || c === '\t' || c === '\n' || c === '\r';
}

/** The first `<name …>` start tag at or after `from`, up to its ">"; null when there is none. */
function startTag(s: string, name: string, from = 0): { tag: string; end: number } | null {
  for (let i = from; ; ) {
    const at = s.indexOf(`<${name}`, i);
    if (at < 0) return null;
    if (isTagEnd(s[at + name.length + 1])) {
      const close = s.indexOf('>', at);
      if (close < 0) return null;
      return { tag: s.slice(at, close + 1), end: close + 1 };
    }
    i = at + 1;
  }
}

/** The first self-closing `<name …/>` element. */
function emptyElement(s: string, name: string): string | null {
  for (let t = startTag(s, name); t; t = startTag(s, name, t.end)) if (t.tag.endsWith('/>')) return t.tag;
  return null;
}

function parseChecksum(tag: string, text: string, where: () => string): Checksum {
  const raw = (attr(tag, 'type') ?? '').toLowerCase();
  const type = (raw === 'sha' ? 'sha1' : raw) as ChecksumType;
  if (!Object.hasOwn(DIGEST_HEX, type)) {
    throw new InputError(`${where()} has a checksum of type ${JSON.stringify(raw.slice(0, 32))}, not one of ${Object.keys(DIGEST_HEX).join(', ')}`, 'rebuild the repository metadata with createrepo_c (sha256 by default)');
  }
  const value = text.trim().toLowerCase();
  if (value.length !== DIGEST_HEX[type] || !/^[0-9a-f]+$/.test(value)) {
    throw new InputError(`${where()} has a malformed ${type} checksum`, REFRESH_HINT);
  }
  return { type, value };
}

/** A path inside the repository: relative, without "..", not a URL. */
function checkHref(href: string, where: () => string): string {
  const parts = href.split('/');
  if (!href || href.startsWith('/') || href.includes('\0') || /^[a-z][a-z0-9+.-]*:\/\//i.test(href) || parts.includes('..')) {
    throw new InputError(`${where()} points outside the repository: only files inside it are read`, 'rebuild the repository metadata (createrepo_c) or point --repo at the repository itself');
  }
  return href;
}

interface RawEntry {
  type: string;
  href: string | null;
  checksumTag: string | null;
  checksumText: string;
}

/**
 * The <data> elements of repomd.xml, in order; an unterminated one ends the
 * list (a truncated file). Each search starts after the previous element's
 * end, so thousands of unclosed <data> tags cannot make this quadratic.
 */
function repomdEntries(text: string): RawEntry[] {
  const out: RawEntry[] = [];
  for (let t = startTag(text, 'data'); t; ) {
    const close = text.indexOf('</data>', t.end);
    if (close < 0) break;
    const body = text.slice(t.end, close);
    const loc = startTag(body, 'location');
    const sum = startTag(body, 'checksum');
    const sumEnd = sum ? body.indexOf('</checksum>', sum.end) : -1;
    out.push({
      type: attr(t.tag, 'type') ?? '',
      href: loc ? attr(loc.tag, 'href') : null,
      checksumTag: sum && sumEnd >= 0 ? sum.tag : null,
      checksumText: sum && sumEnd >= 0 ? body.slice(sum.end, sumEnd) : '',
    });
    t = startTag(text, 'data', close + '</data>'.length);
  }
  return out;
}

function repomdEntry(raw: RawEntry, file: string): RepomdEntry {
  const where = () => `${file}: the "${raw.type}" entry${raw.href ? ` (${JSON.stringify(raw.href.slice(0, 200))})` : ''}`;
  if (!raw.href) throw new InputError(`${where()} has no location`, REFRESH_HINT);
  if (!raw.checksumTag) throw new InputError(`${where()} has no checksum`, REFRESH_HINT);
  return { type: raw.type, href: checkHref(raw.href, where), checksum: parseChecksum(raw.checksumTag, raw.checksumText, where) };
}

export async function readRepomd(repo: RepoRef): Promise<RpmRepoMeta> {
  const file = path.join(repo.dir, 'repodata', 'repomd.xml');
  const raw = await readBeneath(repo.dir, '/repodata/repomd.xml', { maxBytes: LIMITS.repomdBytes, what: 'repomd.xml', follow: 'never' });
  if (!raw) throw new InputError(`${file} is missing: ${repo.dir} is not an rpm-md repository`, 'point --repo at a directory that holds repodata/ (createrepo_c DIR makes one)');
  const text = raw.toString('utf8');
  const entries = naming(file, () => repomdEntries(text));
  const primary = entries.find((e) => e.type === 'primary');
  if (!primary) {
    throw new InputError(`${file} has no "primary" entry${/<\/repomd>/.test(text) ? '' : ' (the file looks truncated)'}`, 'rebuild the repository metadata (createrepo_c) or refresh it');
  }
  const filelists = entries.find((e) => e.type === 'filelists');
  return { repo, primary: repomdEntry(primary, file), filelists: filelists ? repomdEntry(filelists, file) : null };
}

/** The file an entry names, as stored, after checking it against repomd.xml's checksum. */
async function readVerified(repo: RepoRef, entry: RepomdEntry): Promise<{ raw: Buffer; file: string }> {
  const file = path.join(repo.dir, entry.href);
  const raw = await readBeneath(repo.dir, `/${entry.href}`, { maxBytes: LIMITS.metadataCompressedBytes, what: `the ${entry.type} metadata named in repomd.xml`, follow: 'never' });
  if (!raw) throw new InputError(`${file} (named in repomd.xml) is missing`, REFRESH_HINT);
  // Loaded on first use: a warm start whose files' stamps still match hashes nothing.
  const { createHash } = await import('node:crypto');
  const actual = createHash(entry.checksum.type).update(raw).digest('hex');
  if (actual !== entry.checksum.value) {
    throw new InputError(
      `${file} does not match its ${entry.checksum.type} checksum in ${path.join(repo.dir, 'repodata', 'repomd.xml')} (${entry.checksum.value.slice(0, 16)}… expected, ${actual.slice(0, 16)}… found)`,
      'the repository changed while it was read or was only partly copied: refresh it (dnf makecache, or sync it again) or rebuild it with createrepo_c',
    );
  }
  return { raw, file };
}

/** Checks that every repository's primary file still matches repomd.xml (before a cached parse of it is used). */
export async function verifyPrimaries(metas: RpmRepoMeta[]): Promise<void> {
  for (const meta of metas) await readVerified(meta.repo, meta.primary);
}


/** The entry's EVR as "[epoch:]ver[-rel]", or null when unversioned. */
function entryEvrText(tag: string): string | null {
  const ver = attr(tag, 'ver');
  if (ver === null) return null;
  const epoch = attr(tag, 'epoch');
  const rel = attr(tag, 'rel');
  return `${epoch && epoch !== '0' ? `${epoch}:` : ''}${ver}${rel !== null ? `-${rel}` : ''}`;
}

/** The text of each `<file …>path</file>` of a file list. */
function* fileElements(block: string): Generator<string> {
  for (let t = startTag(block, 'file'); t; t = startTag(block, 'file', t.end)) {
    if (t.tag.endsWith('/>')) continue;
    const lt = block.indexOf('<', t.end);
    if (lt < 0) return;
    if (block.startsWith('</file>', lt)) yield unescapeXml(block.slice(t.end, lt));
  }
}

/** file → package keys ("name-evr.arch"), for the wanted files only, from a filelists.xml given in pieces. */
export async function parseFilelistsPieces(pieces: AsyncIterable<string> | Iterable<string>, wanted: Set<string>, what = 'filelists.xml'): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const split = new PackageSplitter(STRING_TEXT, what, false);
  const each = (block: string) => {
    const head = block.slice(0, block.indexOf('>') + 1);
    const key = `${attr(head, 'name')}-${entryEvrText(emptyElement(block, 'version') ?? '') ?? ''}.${attr(head, 'arch')}`;
    for (const f of fileElements(block)) {
      if (!wanted.has(f)) continue;
      const l = found.get(f);
      if (l) l.push(key);
      else found.set(f, [key]);
    }
  };
  for await (const piece of pieces) naming(what, () => split.feed(piece, each));
  split.end();
  return found;
}

/** Text pieces of at most this many bytes each (a string per piece; the document as a whole is never one). */
const TEXT_PIECE = 1 << 16;

/** A metadata file's text, checked against repomd.xml and decompressed, in pieces. */
async function* metadataText(raw: Buffer, file: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  const { decompressPieces } = await import('../decompress.js');
  for await (const buf of decompressPieces(raw, file, { maxBytes: LIMITS.metadataBytes, purpose: 'one metadata file', hint: REFRESH_HINT })) {
    for (let at = 0; at < buf.length; at += TEXT_PIECE) yield decoder.write(buf.subarray(at, at + TEXT_PIECE));
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/** Every repository's primary metadata as one pool source; file lists stay on disk until needed. */
export async function loadRpmRepos(repos: RepoRef[], arch = 'x86_64'): Promise<{ source: PoolSource; metas: RpmRepoMeta[]; warnings: string[] }> {
  return loadRpmMetas(await Promise.all(repos.map(readRepomd)), arch);
}

/** The same, from repomd.xml files already read. */
export async function loadRpmMetas(metas: RpmRepoMeta[], arch = 'x86_64'): Promise<{ source: PoolSource; metas: RpmRepoMeta[]; warnings: string[] }> {
  const builder = new PoolBuilder('rpm', arch);
  const warnings: string[] = [];
  // Loaded here, not with this module: a warm start (the pool from the cache) never decompresses or parses.
  const [{ decompressPieces }, { parsePrimaryBytes }] = await Promise.all([import('../decompress.js'), import('./primary.js')]);
  for (const meta of metas) {
    const { raw, file } = await readVerified(meta.repo, meta.primary);
    const pieces = decompressPieces(raw, file, { maxBytes: LIMITS.metadataBytes, purpose: 'one metadata file', hint: REFRESH_HINT });
    warnings.push(...(await parsePrimaryBytes(pieces, meta.repo.name, builder, file)).warnings);
  }
  return { source: { data: builder.finish(), loadFiles: rpmFileLoader(metas) }, metas, warnings };
}

/** File lists stay on disk until a file requirement that primary cannot answer needs them. */
export function rpmFileLoader(metas: RpmRepoMeta[]): NonNullable<PoolSource['loadFiles']> {
  return async (wanted) => {
    const all = new Map<string, string[]>();
    for (const meta of metas) {
      if (!meta.filelists) continue;
      const { raw, file } = await readVerified(meta.repo, meta.filelists);
      for (const [f, keys] of await parseFilelistsPieces(metadataText(raw, file), wanted, file)) {
        const l = all.get(f);
        if (l) l.push(...keys);
        else all.set(f, keys);
      }
    }
    return all;
  };
}
