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
import { createHash } from 'node:crypto';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readBeneath } from '../system/rooted.js';
import type { Op } from './deps.js';
import { decompressPieces } from '../decompress.js';
import { PoolBuilder, type PoolSource } from './pool.js';
import { rpmInstallable } from './arch.js';

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

const REFRESH_HINT = 'refresh or rebuild the repository metadata';

/** Hex digits per checksum type; "sha" is old createrepo's name for sha1. */
const DIGEST_HEX: Record<ChecksumType, number> = { sha1: 40, sha224: 56, sha256: 64, sha384: 96, sha512: 128 };

/** A character reference that is not an XML character (XML 1.0 production [2]). */
class XmlSyntax extends Error {}

function xmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

function unescapeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (ref: string, e: string) => {
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
      default: {
        const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        if (!xmlChar(code)) throw new XmlSyntax(`"${ref.length > 24 ? `${ref.slice(0, 24)}…` : ref}" is not a valid character reference`);
        return String.fromCodePoint(code);
      }
    }
  });
}

/** Runs a parse step, turning a bad character reference into an InputError naming the file. */
function naming<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof XmlSyntax) throw new InputError(`${what}: ${err.message}`, REFRESH_HINT);
    throw err;
  }
}

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

const SECTION_TAGS = new Map<string, [string, string]>();

/** The <rpm:entry …> tags of one section, searched within the block rather than a slice of it. */
function entries(block: string, section: string): string[] {
  let tags = SECTION_TAGS.get(section);
  if (!tags) SECTION_TAGS.set(section, (tags = [`<rpm:${section}>`, `</rpm:${section}>`]));
  const open = block.indexOf(tags[0]);
  if (open < 0) return [];
  const closeAt = block.indexOf(tags[1], open);
  const close = closeAt < 0 ? block.length : closeAt;
  const out: string[] = [];
  let i = open;
  for (;;) {
    const s = block.indexOf('<rpm:entry ', i);
    if (s < 0 || s >= close) break;
    const e = block.indexOf('>', s);
    if (e < 0 || e >= close) break;
    out.push(block.slice(s, e + 1));
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

const OPEN = '<package ';
const CLOSE = '</package>';
/** The longest text before the root element that is searched for it; real files have a line or two. */
const HEAD_MAX = 1 << 20;

/**
 * Splits a metadata document that arrives in pieces into its <package>
 * elements, holding only an unfinished element and a few characters of the
 * text between them: the document itself (70 MB for 64k packages) is never
 * joined. Each piece is searched once (the pieces of an element that spans
 * several are joined when its end arrives), so hostile input, one enormous
 * element or none at all, stays linear. In primary (strict) the root element
 * must come first, an element cut off is an error and so is a missing
 * closing </metadata>; in file lists the end of the data is the end.
 */
export class PackageSplitter {
  /** Pieces of an element whose end has not arrived. */
  private open: string[] | null = null;
  /** The last characters of the previous piece, which may begin a tag that ends in this one. */
  private carry = '';
  /** Text before the first element, until the root element is found in it. */
  private head: string | null = '';
  /** The last non-blank characters outside elements, and the blanks after them: the closing tag is read here. */
  private ending = '';
  private blanks = '';

  constructor(
    private readonly what: string,
    private readonly strict: boolean,
  ) {}

  feed(piece: string, each: (block: string) => void): void {
    const t = this.carry + piece;
    this.carry = '';
    let i = 0;
    for (;;) {
      if (!this.open) {
        const s = t.indexOf(OPEN, i);
        // Anything from the last OPEN.length - 1 characters on may be the start of an element.
        const upto = s < 0 ? Math.max(i, t.length - (OPEN.length - 1)) : s;
        this.outside(t.slice(i, upto));
        if (s < 0) {
          this.carry = t.slice(upto);
          return;
        }
        if (this.strict) this.rootSeen();
        this.open = [];
        i = s;
      }
      const e = t.indexOf(CLOSE, i);
      if (e < 0) {
        const keep = Math.max(i, t.length - (CLOSE.length - 1));
        this.open.push(t.slice(i, keep));
        this.carry = t.slice(keep);
        return;
      }
      const block = this.open.length ? this.open.join('') + t.slice(i, e) : t.slice(i, e);
      this.open = null;
      i = e + CLOSE.length;
      each(block);
    }
  }

  /** After the last piece: is the document whole? */
  end(): void {
    if (!this.strict) return;
    if (this.open) throw new InputError(`${this.what}: truncated inside a <package> element`, REFRESH_HINT);
    this.outside(this.carry);
    this.carry = '';
    this.rootSeen();
    if (!this.ending.endsWith('</metadata>')) throw new InputError(`${this.what}: truncated (no closing </metadata>)`, REFRESH_HINT);
  }

  private rootSeen(): void {
    if (this.head === null) return;
    if (!/<metadata[\s>]/.test(this.head)) throw new InputError(`${this.what}: not rpm-md primary metadata (no <metadata> element)`, REFRESH_HINT);
    this.head = null;
  }

  private outside(text: string): void {
    if (!text) return;
    if (this.head !== null && this.strict) {
      this.head += text;
      if (/<metadata[\s>]/.test(this.head)) this.head = '<metadata>';
      else if (this.head.length > HEAD_MAX) this.rootSeen();
    }
    const last = lastNonBlank(text);
    if (last < 0) {
      this.blanks = (this.blanks + text).slice(-16);
      return;
    }
    this.ending = (this.ending + this.blanks + text.slice(0, last + 1)).slice(-16);
    this.blanks = text.slice(last + 1).slice(-16);
  }
}

/** The index of the last character that is not white space (as JavaScript's trim counts it), or -1. */
function lastNonBlank(s: string): number {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x0b && c !== 0x0c && c !== 0xa0 && c !== 0xfeff && !/\s/.test(s[end - 1]!)) break;
    end--;
  }
  return end - 1;
}

const PRIMARY_FILE_TAGS = new Set(['<file>', '<file type="dir">', '<file type="ghost">']);

/** The text of each `<file …>path</file>`; primary only knows the three plain forms. */
function* fileElements(block: string, primary: boolean): Generator<string> {
  for (let t = startTag(block, 'file'); t; t = startTag(block, 'file', t.end)) {
    if (t.tag.endsWith('/>') || (primary && !PRIMARY_FILE_TAGS.has(t.tag))) continue;
    const lt = block.indexOf('<', t.end);
    if (lt < 0) return;
    if (block.startsWith('</file>', lt)) yield unescapeXml(block.slice(t.end, lt));
  }
}

/** Installed sizes are byte counts; anything else (negative, fractional, beyond 2^53) counts as unknown. */
function installSize(sizeTag: string): number {
  const n = Number(attr(sizeTag, 'installed') ?? 0);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** Appends one <package> element of primary.xml to the builder; false when it lacks a name, arch or version. */
function addPrimaryPackage(block: string, repoName: string, builder: PoolBuilder): boolean {
  const name = tagText(block, 'name');
  const arch = tagText(block, 'arch');
  const vtag = emptyElement(block, 'version');
  if (!name || !arch || !vtag) return false;
  // Source packages, and binaries this architecture cannot run (libsolv leaves them uninstallable).
  if (arch === 'src' || arch === 'nosrc' || !rpmInstallable(builder.arch, arch)) return true;
  builder.add({ name, arch, evr: entryEvrText(vtag) ?? '0', installSize: installSize(emptyElement(block, 'size') ?? ''), repo: repoName });
  for (const tag of entries(block, 'provides')) {
    const pname = attr(tag, 'name');
    if (!pname) continue;
    const flags = attr(tag, 'flags');
    builder.provide(pname, flags && OPS.has(flags) ? (flags as Op) : null, flags && OPS.has(flags) ? entryEvrText(tag) : null);
  }
  for (const t of depTexts(block, 'requires')) builder.require(t);
  for (const t of depTexts(block, 'recommends')) builder.recommend(t);
  for (const t of depTexts(block, 'obsoletes')) builder.obsolete(t);
  for (const f of fileElements(block, true)) builder.file(f);
  return true;
}

/** Appends every binary package of a primary.xml, given in pieces, to the builder. */
export async function parsePrimaryPieces(pieces: AsyncIterable<string> | Iterable<string>, repoName: string, builder: PoolBuilder, what = 'primary.xml'): Promise<{ warnings: string[] }> {
  const split = new PackageSplitter(what, true);
  let skipped = 0;
  const each = (block: string) => void (addPrimaryPackage(block, repoName, builder) || skipped++);
  for await (const piece of pieces) naming(what, () => split.feed(piece, each));
  split.end();
  return { warnings: skipped ? [`${what}: ${skipped === 1 ? 'a package' : `${skipped} packages`} without name, arch or version ${skipped === 1 ? 'was' : 'were'} skipped`] : [] };
}

/** file → package keys ("name-evr.arch"), for the wanted files only, from a filelists.xml given in pieces. */
export async function parseFilelistsPieces(pieces: AsyncIterable<string> | Iterable<string>, wanted: Set<string>, what = 'filelists.xml'): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const split = new PackageSplitter(what, false);
  const each = (block: string) => {
    const head = block.slice(0, block.indexOf('>') + 1);
    const key = `${attr(head, 'name')}-${entryEvrText(emptyElement(block, 'version') ?? '') ?? ''}.${attr(head, 'arch')}`;
    for (const f of fileElements(block, false)) {
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
  for (const meta of metas) {
    const { raw, file } = await readVerified(meta.repo, meta.primary);
    warnings.push(...(await parsePrimaryPieces(metadataText(raw, file), meta.repo.name, builder, file)).warnings);
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
