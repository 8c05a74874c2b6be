/**
 * One graph model behind every metadata source (rpm-md, dnf dump, apt).
 * A Fedora- or Debian-sized repository is ~64,000 packages and half a
 * million dependency entries, so the pool is packed: interned strings and
 * typed arrays, with dependency strings parsed only for the packages a
 * resolution actually touches. That keeps memory small and lets the cache
 * load without rebuilding millions of objects.
 */
import zlib from 'node:zlib';
import { parsed, parseFailure, type Parsed } from '../errors.js';
import { parseReq, type Cap, type Op, type Req } from './deps.js';
import { evrCmp, formatEvr, parseEvr, type Evr, type VersionScheme } from './version.js';

/** A package as the resolver sees it; materialised on demand from the packed pool. */
export interface Package {
  id: number;
  name: string;
  arch: string;
  evr: Evr;
  installSize: number;
  requires: Req[];
  /** The weak ones (Recommends). */
  recommends: Req[];
  obsoletes: Cap[];
  repo: string;
  essential: boolean;
  /** Debian Priority as a rank (required 5 … extra 1), 0 when unknown; apt prefers higher among providers. */
  priority: number;
}

const OP_CODES: Array<Op | null> = [null, 'LT', 'LE', 'EQ', 'GE', 'GT'];
export const OP_CODE: Record<Op, number> = { LT: 1, LE: 2, EQ: 3, GE: 4, GT: 5 };
const FLAG: Record<Op, number> = { LT: 1, LE: 3, EQ: 2, GE: 6, GT: 4 };
const MAX_PRIORITY = 5;
const LESS = 1;
const EQUAL = 2;
const GREATER = 4;

/**
 * The strings of a cached pool, left as UTF-8 bytes in the cache file and
 * decoded one at a time when asked: a resolution reads a few thousand of the
 * ~million strings, so decoding them all (and collecting the garbage) was a
 * third of a warm start.
 */
export class StringTable {
  private readonly decoded = new Map<number, string>();

  constructor(
    readonly bytes: Buffer,
    /** Start of string i at [i]; it ends one byte (its NUL) before [i + 1]. length + 1 entries. */
    readonly offsets: Int32Array,
  ) {}

  get length(): number {
    return this.offsets.length - 1;
  }

  /** textHash of string i, from its bytes when they are ASCII (the same code units), without keeping a decoded copy. */
  hash(i: number): number {
    const end = this.offsets[i + 1]! - 1;
    let h = 0x811c9dc5;
    for (let k = this.offsets[i]!; k < end; k++) {
      const c = this.bytes[k]!;
      if (c >= 0x80) return textHash(this.bytes.toString('utf8', this.offsets[i]!, end));
      h = Math.imul(h ^ c, 0x01000193);
    }
    return h >>> 0;
  }

  at(i: number): string | undefined {
    if (!(i >= 0 && i < this.offsets.length - 1)) return undefined;
    let s = this.decoded.get(i);
    if (s === undefined) {
      s = this.bytes.toString('utf8', this.offsets[i]!, this.offsets[i + 1]! - 1);
      this.decoded.set(i, s);
    }
    return s;
  }
}

export interface PackedPool {
  scheme: VersionScheme;
  /** The native architecture: x86_64 (rpm) or amd64 (deb). */
  arch: string;
  /** A plain array from a parser; a lazily decoded table from the cache. */
  strings: string[] | StringTable;
  name: Int32Array;
  archId: Int32Array;
  evr: Int32Array;
  repo: Int32Array;
  size: Float64Array;
  /** bit 0: Essential; bits 1–3: Debian priority rank. */
  flags: Uint8Array;
  provOff: Int32Array;
  provName: Int32Array;
  provOp: Int8Array;
  provEvr: Int32Array;
  reqOff: Int32Array;
  req: Int32Array;
  recOff: Int32Array;
  rec: Int32Array;
  obsOff: Int32Array;
  obs: Int32Array;
  fileOff: Int32Array;
  file: Int32Array;
}

/**
 * The lookups Pool needs, precomputed so a cached pool is used in place:
 * packages per name and provide entries per capability name (both CSR over
 * string ids), and an open-addressing hash table from a name's text to its
 * string id (keys: package and capability names), so looking a name up never
 * decodes the whole string table.
 */
export interface PoolIndex {
  nameStart: Int32Array;
  namePkgs: Int32Array;
  provStart: Int32Array;
  provEntries: Int32Array;
  provPkg: Int32Array;
  /** String ids, -1 for empty slots; length a power of two. */
  lookup: Int32Array;
}

/** FNV-1a over UTF-16 code units: the same for a parser's string and a decoded cached one. */
/** String `i` of a packed pool, whichever table holds it. */
export function stringOf(d: Pick<PackedPool, 'strings'>, i: number): string | undefined {
  return Array.isArray(d.strings) ? d.strings[i] : d.strings.at(i);
}

export function textHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}


/**
 * Builds the index. Ids out of range are skipped rather than trusted: a
 * damaged pool must get as far as checkPacked, which names the problem.
 */
export function indexPacked(d: PackedPool): PoolIndex {
  const n = d.name.length;
  const nStr = d.strings.length;
  const inStr = (x: number) => x >= 0 && x < nStr;
  const nameStart = new Int32Array(nStr + 1);
  for (let i = 0; i < n; i++) if (inStr(d.name[i]!)) nameStart[d.name[i]! + 1]!++;
  const provStart = new Int32Array(nStr + 1);
  const nProv = d.provName.length;
  for (let k = 0; k < nProv; k++) if (inStr(d.provName[k]!)) provStart[d.provName[k]! + 1]!++;
  let keys = 0;
  for (let s = 0; s < nStr; s++) if (nameStart[s + 1] || provStart[s + 1]) keys++;
  let cap = 16;
  while (cap < keys * 2) cap *= 2;
  const lookup = new Int32Array(cap).fill(-1);
  for (let s = 0; s < nStr; s++) {
    if (!nameStart[s + 1] && !provStart[s + 1]) continue;
    let h = (Array.isArray(d.strings) ? textHash(d.strings[s]!) : d.strings.hash(s)) & (cap - 1);
    while (lookup[h] !== -1) h = (h + 1) & (cap - 1);
    lookup[h] = s;
  }
  for (let s = 0; s < nStr; s++) {
    nameStart[s + 1]! += nameStart[s]!;
    provStart[s + 1]! += provStart[s]!;
  }
  const namePkgs = new Int32Array(n);
  const nameFill = nameStart.slice(0, nStr);
  for (let i = 0; i < n; i++) if (inStr(d.name[i]!)) namePkgs[nameFill[d.name[i]!]!++] = i;
  const provEntries = new Int32Array(nProv);
  const provPkg = new Int32Array(nProv);
  const provFill = provStart.slice(0, nStr);
  const off = d.provOff;
  for (let p = 0; p < n; p++) {
    const end = Math.min(off[p + 1] ?? 0, nProv);
    for (let k = Math.max(off[p] ?? 0, 0); k < end; k++) {
      provPkg[k] = p;
      if (inStr(d.provName[k]!)) provEntries[provFill[d.provName[k]!]!++] = k;
    }
  }
  return { nameStart, namePkgs, provStart, provEntries, provPkg, lookup };
}

export interface PoolSource {
  data: PackedPool;
  /** Precomputed lookups (from the cache, or shared with the cache writer); built from data when absent. */
  index?: PoolIndex;
  /** Called once, on the first file requirement primary metadata cannot answer: file → package keys. */
  loadFiles?: (wanted: Set<string>) => Promise<Map<string, string[]>> | Map<string, string[]>;
}

export interface NewPackage {
  name: string;
  arch: string;
  /** "[epoch:]version[-release]" */
  evr: string;
  installSize: number;
  repo: string;
  essential?: boolean;
  priority?: number;
}

/**
 * A string that shares no storage with the one it came from. V8 makes a
 * slice of 13 or more characters a view of its parent; a view of a flat
 * string made for the purpose pins only that.
 */
function own(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/**
 * A list of numbers in fixed typed-array blocks: appending never copies, and
 * the blocks live outside V8's heap. Plain arrays of a million numbers sat in
 * its large-object space at twice the size, with every outgrown copy left
 * for the next full collection (~20 MB of a cold load's peak).
 */
class NumList {
  private static readonly BLOCK = 1 << 14;
  private readonly blocks: Array<Int32Array | Float64Array> = [];
  private last: Int32Array | Float64Array;
  private fill = 0;
  length = 0;

  constructor(private readonly Block: Int32ArrayConstructor | Float64ArrayConstructor = Int32Array) {
    this.last = new Block(NumList.BLOCK);
    this.blocks.push(this.last);
  }

  push(v: number): void {
    if (this.fill === NumList.BLOCK) {
      this.last = new this.Block(NumList.BLOCK);
      this.blocks.push(this.last);
      this.fill = 0;
    }
    this.last[this.fill++] = v;
    this.length++;
  }

  at(i: number): number {
    return this.blocks[i >>> 14]![i & (NumList.BLOCK - 1)]!;
  }

  /** The numbers in one array of `C`, with `extra` appended. */
  to<T extends Int32Array | Float64Array | Uint8Array | Int8Array>(C: { new (n: number): T }, ...extra: number[]): T {
    const out = new C(this.length + extra.length);
    let at = 0;
    for (let b = 0; b < this.blocks.length; b++) {
      const n = b === this.blocks.length - 1 ? this.fill : NumList.BLOCK;
      const block = this.blocks[b]!;
      if (out instanceof Int32Array && block instanceof Int32Array) out.set(block.subarray(0, n), at);
      else for (let k = 0; k < n; k++) out[at + k] = block[k]!;
      at += n;
    }
    for (const v of extra) out[at++] = v;
    return out;
  }
}

/**
 * The pool's string table as it is built: UTF-8 bytes in one growing arena,
 * each string followed by a NUL (the cache's StringTable layout), found again
 * through an open-addressed table of FNV-1a hashes. A byte-level parser hands
 * its fields over as byte ranges, so no JavaScript string is made for them.
 */
class ByteStrings {
  private arena = Buffer.allocUnsafeSlow(1 << 20);
  private used = 0;
  private readonly starts = new NumList();
  private hashes = new Int32Array(1 << 12);
  private slots = new Int32Array(1 << 14).fill(-1);
  private scratch = Buffer.allocUnsafeSlow(1 << 12);

  get length(): number {
    return this.starts.length;
  }

  /** The id of bytes [s, e) of `b`, added when new. */
  intern(b: Uint8Array, s: number, e: number): number {
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    const mask = this.slots.length - 1;
    const len = e - s;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const id = this.slots[at]!;
      if (id === -1) return this.add(b, s, e, h, at);
      if (this.hashes[id] !== h) continue;
      const start = this.starts.at(id);
      const end = id + 1 < this.starts.length ? this.starts.at(id + 1) - 1 : this.used - 1;
      if (end - start !== len) continue;
      let k = 0;
      while (k < len && this.arena[start + k] === b[s + k]) k++;
      if (k === len) return id;
    }
  }

  /** The id of a string (encoded into a scratch buffer first). */
  internText(text: string): number {
    const need = text.length * 3;
    if (need > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(Math.max(need, this.scratch.length * 2));
    const n = this.scratch.write(text, 0, 'utf8');
    return this.intern(this.scratch, 0, n);
  }

  private add(b: Uint8Array, s: number, e: number, h: number, slot: number): number {
    const id = this.starts.length;
    const len = e - s;
    if (this.used + len + 1 > this.arena.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.arena.length * 2, this.used + len + 1));
      this.arena.copy(bigger, 0, 0, this.used);
      this.arena = bigger;
    }
    // b may be this.scratch or the arena's own old buffer: copy before anything else moves.
    if (len > 64) this.arena.set(b.subarray(s, e), this.used);
    else for (let k = 0; k < len; k++) this.arena[this.used + k] = b[s + k]!;
    this.starts.push(this.used);
    this.used += len;
    this.arena[this.used++] = 0;
    if (id >= this.hashes.length) {
      const more = new Int32Array(this.hashes.length * 2);
      more.set(this.hashes);
      this.hashes = more;
    }
    this.hashes[id] = h;
    this.slots[slot] = id;
    if ((id + 1) * 2 > this.slots.length) this.grow();
    return id;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.starts.length; id++) {
      let at = this.hashes[id]! & mask;
      while (slots[at] !== -1) at = (at + 1) & mask;
      slots[at] = id;
    }
    this.slots = slots;
  }

  finish(): StringTable {
    return new StringTable(this.arena.subarray(0, this.used), this.starts.to(Int32Array, this.used));
  }
}

/** Parsers append packages and their dependency strings here; `finish` packs them. */
export class PoolBuilder {
  private readonly ids = new Map<string, number>();
  private readonly table = new ByteStrings();
  private readonly cols = { name: new NumList(), arch: new NumList(), evr: new NumList(), repo: new NumList(), size: new NumList(Float64Array), flags: new NumList() };
  private readonly lists = {
    prov: { off: new NumList(), a: new NumList(), op: new NumList(), evr: new NumList() },
    req: { off: new NumList(), a: new NumList() },
    rec: { off: new NumList(), a: new NumList() },
    obs: { off: new NumList(), a: new NumList() },
    file: { off: new NumList(), a: new NumList() },
  };
  private hasSelfProvide = true;
  private current = -1;

  constructor(
    readonly scheme: VersionScheme,
    readonly arch: string,
  ) {}

  /** The id of a string: parsers that make strings (apt, dnf) come here, and repeat many, so a map answers them first. */
  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.table.internText(s);
      // A copy: the parsers' strings are slices of megabyte pieces of a document, and a kept slice keeps its piece alive.
      this.ids.set(own(s), id);
    }
    return id;
  }

  /** The id of bytes [s, e) of `b`, for byte-level parsers. */
  internBytes(b: Uint8Array, s: number, e: number): number {
    return this.table.intern(b, s, e);
  }

  get count(): number {
    return this.cols.name.length;
  }

  private closeSelf() {
    // Every package provides its own name at its own version.
    if (this.current >= 0 && !this.hasSelfProvide) {
      const n = this.cols.name.at(this.current);
      this.pushProvide(n, OP_CODE.EQ, this.cols.evr.at(this.current));
    }
  }

  add(p: NewPackage): void {
    this.addIds(this.intern(p.name), this.intern(p.arch), this.intern(p.evr), this.intern(p.repo), p);
  }

  /** `add` with the strings already interned (byte-level parsers). */
  addIds(name: number, arch: number, evr: number, repo: number, p: Pick<NewPackage, 'installSize' | 'essential' | 'priority'>): void {
    this.closeSelf();
    this.current = this.cols.name.length;
    this.hasSelfProvide = false;
    this.cols.name.push(name);
    this.cols.arch.push(arch);
    this.cols.evr.push(evr);
    this.cols.repo.push(repo);
    // Sizes and priorities come from other machines' metadata: anything out of range counts as unknown.
    this.cols.size.push(Number.isFinite(p.installSize) && p.installSize >= 0 && p.installSize <= Number.MAX_SAFE_INTEGER ? p.installSize : 0);
    const priority = p.priority ?? 0;
    this.cols.flags.push((p.essential ? 1 : 0) | ((Number.isInteger(priority) && priority >= 0 && priority <= MAX_PRIORITY ? priority : 0) << 1));
    this.lists.prov.off.push(this.lists.prov.a.length);
    this.lists.req.off.push(this.lists.req.a.length);
    this.lists.rec.off.push(this.lists.rec.a.length);
    this.lists.obs.off.push(this.lists.obs.a.length);
    this.lists.file.off.push(this.lists.file.a.length);
  }

  private pushProvide(name: number, op: number, evr: number) {
    this.lists.prov.a.push(name);
    this.lists.prov.op.push(op);
    this.lists.prov.evr.push(evr);
  }

  provide(name: string, op: Op | null, evr: string | null): void {
    this.provideIds(this.intern(name), op && evr !== null ? OP_CODE[op] : 0, op && evr !== null ? this.intern(evr) : -1);
  }

  /** `provide` with interned strings: op 0 and evr -1 for an unversioned provide. */
  provideIds(name: number, op: number, evr: number): void {
    if (name === this.cols.name.at(this.current)) this.hasSelfProvide = true;
    this.pushProvide(name, op, evr);
  }

  /** Appends an interned dependency to one of the package's lists. */
  dependId(kind: 'req' | 'rec' | 'obs' | 'file', id: number): void {
    this.lists[kind].a.push(id);
  }

  /** A dependency string as rpm writes it: "name", "name >= 1.0-1" or a rich "(a or b)". */
  require(text: string): void {
    this.lists.req.a.push(this.intern(text));
  }

  recommend(text: string): void {
    this.lists.rec.a.push(this.intern(text));
  }

  obsolete(text: string): void {
    this.lists.obs.a.push(this.intern(text));
  }

  file(path: string): void {
    this.lists.file.a.push(this.intern(path));
  }

  finish(): PackedPool {
    this.closeSelf();
    const off = (l: { off: NumList; a: NumList }) => l.off.to(Int32Array, l.a.length);
    return {
      scheme: this.scheme,
      arch: this.arch,
      strings: this.table.finish(),
      name: this.cols.name.to(Int32Array),
      archId: this.cols.arch.to(Int32Array),
      evr: this.cols.evr.to(Int32Array),
      repo: this.cols.repo.to(Int32Array),
      size: this.cols.size.to(Float64Array),
      flags: this.cols.flags.to(Uint8Array),
      provOff: off(this.lists.prov),
      provName: this.lists.prov.a.to(Int32Array),
      provOp: this.lists.prov.op.to(Int8Array),
      provEvr: this.lists.prov.evr.to(Int32Array),
      reqOff: off(this.lists.req),
      req: this.lists.req.a.to(Int32Array),
      recOff: off(this.lists.rec),
      rec: this.lists.rec.a.to(Int32Array),
      obsOff: off(this.lists.obs),
      obs: this.lists.obs.a.to(Int32Array),
      fileOff: off(this.lists.file),
      file: this.lists.file.a.to(Int32Array),
    };
  }

}

export class Pool {
  readonly scheme: VersionScheme;
  readonly arch: string;
  readonly data: PackedPool;
  private readonly index: PoolIndex;
  private readonly str: (i: number) => string;
  private readonly objects: Array<Package | undefined>;
  private readonly evrs = new Map<number, Evr>();
  private readonly reqs = new Map<number, Req | null>();
  private fileIndex: Map<string, number[]> | null = null;
  private filesComplete: boolean;
  private readonly loadFiles: PoolSource['loadFiles'];
  /** Providers per capability object: the resolver asks about the same parsed requirement many times. */
  private providers = new WeakMap<Cap, Package[]>();
  /** The same lists by the capability's text: equal requirements of different packages share one. */
  private providersByText = new Map<string, Package[]>();
  /** Bumped when the file lists are loaded: answers remembered from before may be short. */
  generation = 0;
  /** Per-package marks for de-duplicating provider lists in linear time. */
  private readonly seen: Uint32Array;
  private stamp = 0;
  /** Dependency strings that did not parse, reported once (shared with the loader's warnings, so commands print them). */
  readonly warnings: string[];
  private shown = 0;
  private suppressed = 0;
  private summaryAt = -1;

  constructor(source: PoolSource, warnings: string[] = []) {
    this.warnings = warnings;
    const d = source.data;
    this.data = d;
    this.scheme = d.scheme;
    this.arch = d.arch;
    this.loadFiles = source.loadFiles;
    this.filesComplete = !source.loadFiles;
    const strings = d.strings;
    this.str = Array.isArray(strings) ? (i) => strings[i]! : (i) => strings.at(i)!;
    const n = d.name.length;
    this.objects = new Array(n);
    this.seen = new Uint32Array(n);
    this.index = source.index ?? indexPacked(d);
  }

  /** The string id of a package or capability name, or -1. Probes are bounded: a damaged table cannot loop. */
  private lookupId(text: string): number {
    const t = this.index.lookup;
    const mask = t.length - 1;
    let h = textHash(text) & mask;
    for (let probes = 0; probes < t.length; probes++, h = (h + 1) & mask) {
      const s = t[h]!;
      if (s === -1) return -1;
      if (this.str(s) === text) return s;
    }
    return -1;
  }

  get size(): number {
    return this.data.name.length;
  }

  private capId(name: string): number | undefined {
    const id = this.lookupId(name);
    return id >= 0 && this.index.provStart[id + 1]! > this.index.provStart[id]! ? id : undefined;
  }

  evrOf(id: number): Evr {
    let e = this.evrs.get(id);
    if (!e) {
      e = parseEvr(this.str(id));
      this.evrs.set(id, e);
    }
    return e;
  }

  /**
   * A dependency that does not parse (including one nested deeper than
   * LIMITS.richDepth) is skipped with a warning rather than refused: no tool
   * can read it, so a hostile repository gains nothing it could not get by
   * leaving the dependency out, and refusing would let one such package block
   * every closure that merely looks at it as a candidate.
   */
  private reqOf(id: number, pkg: number): Req | null {
    if (this.reqs.has(id)) return this.reqs.get(id)!;
    const text = this.str(id);
    const r = parseReq(text);
    if (!r.ok) this.warn(`${this.str(this.data.name[pkg]!)}: ${r.error}; requirement ignored`);
    const req = r.ok ? r.req : null;
    this.reqs.set(id, req);
    return req;
  }

  /** At most WARNINGS_SHOWN warnings, then one line that counts the rest (a hostile repository can hold millions). */
  private warn(message: string): void {
    if (this.shown < WARNINGS_SHOWN) {
      this.shown++;
      this.warnings.push(message);
      return;
    }
    const summary = `… and ${++this.suppressed} more dependencies that could not be read`;
    if (this.summaryAt < 0) this.summaryAt = this.warnings.push(summary) - 1;
    else this.warnings[this.summaryAt] = summary;
  }

  private reqList(off: Int32Array, arr: Int32Array, p: number): Req[] {
    const out: Req[] = [];
    for (let k = off[p]!; k < off[p + 1]!; k++) {
      const r = this.reqOf(arr[k]!, p);
      if (r) out.push(r);
    }
    return out;
  }

  pkg(id: number): Package {
    let o = this.objects[id];
    if (!o) {
      const d = this.data;
      const obsoletes: Cap[] = [];
      for (const r of this.reqList(d.obsOff, d.obs, id)) if (r.kind === 'cap') obsoletes.push(r.cap);
      o = {
        id,
        name: this.str(d.name[id]!),
        arch: this.str(d.archId[id]!),
        evr: this.evrOf(d.evr[id]!),
        installSize: d.size[id]!,
        requires: this.reqList(d.reqOff, d.req, id),
        recommends: this.reqList(d.recOff, d.rec, id),
        obsoletes,
        repo: this.str(d.repo[id]!),
        essential: (d.flags[id]! & 1) === 1,
        priority: d.flags[id]! >> 1,
      };
      this.objects[id] = o;
    }
    return o;
  }

  /**
   * A package's provides with `=`, `<=` or `<` and a version (libsolv reorders
   * choices by them): the capability's string id, the version text, and
   * whether it is a `<` one.
   */
  versionedProvides(id: number): Array<{ name: number; evr: string; lt: boolean }> {
    const d = this.data;
    const out: Array<{ name: number; evr: string; lt: boolean }> = [];
    for (let e = d.provOff[id]!; e < d.provOff[id + 1]!; e++) {
      const op = OP_CODES[d.provOp[e]!];
      if ((op === 'EQ' || op === 'LE' || op === 'LT') && d.provEvr[e]! >= 0) out.push({ name: d.provName[e]!, evr: this.str(d.provEvr[e]!), lt: op === 'LT' });
    }
    return out;
  }

  named(name: string): Package[] {
    const id = this.lookupId(name);
    if (id < 0) return [];
    const { nameStart, namePkgs } = this.index;
    const out: Package[] = [];
    for (let k = nameStart[id]!; k < nameStart[id + 1]!; k++) out.push(this.pkg(namePkgs[k]!));
    return out;
  }

  /** Every name something provides, real packages and virtual ones (apt's regular expressions select both), in string order. */
  *providedNames(): IterableIterator<string> {
    const start = this.index.provStart;
    for (let s = 0; s + 1 < start.length; s++) if (start[s + 1]! > start[s]!) yield this.str(s);
  }

  /** Every package name, once, in the order of each name's first package (for fuzzy search). */
  *names(): IterableIterator<string> {
    const { nameStart, namePkgs } = this.index;
    const d = this.data;
    for (let p = 0; p < d.name.length; p++) {
      const s = d.name[p]!;
      if (namePkgs[nameStart[s]!] === p) yield this.str(s);
    }
  }

  evrCmp(a: Evr, b: Evr): number {
    return evrCmp(this.scheme, a, b);
  }

  /** Does a provided capability satisfy a required one? rpm's range overlap; dpkg needs a versioned provide for a versioned need. */
  capMatches(provide: Cap, need: Cap): boolean {
    if (provide.name !== need.name) return false;
    return this.rangeMatches(provide.op, provide.evr, need);
  }

  private rangeMatches(op: Op | null, evr: Evr | null, need: Cap): boolean {
    if (!need.op || !need.evr) return true;
    if (!op || !evr) return this.scheme === 'rpm';
    const a = FLAG[op];
    const b = FLAG[need.op];
    const sense = this.evrCmp(evr, need.evr);
    if (sense < 0) return (a & GREATER) !== 0 || (b & LESS) !== 0;
    if (sense > 0) return (a & LESS) !== 0 || (b & GREATER) !== 0;
    return ((a & EQUAL) !== 0 && (b & EQUAL) !== 0) || ((a & LESS) !== 0 && (b & LESS) !== 0) || ((a & GREATER) !== 0 && (b & GREATER) !== 0);
  }

  /**
   * Packages providing a capability (files included), in pool order, each
   * once. The answer is kept per capability object (parsed requirements are
   * shared), so callers must not change the array.
   */
  whatProvides(need: Cap): readonly Package[] {
    let out = this.providers.get(need);
    if (!out) {
      // Equal capabilities required by many packages (libc.so.6, a virtual name) share one list, so
      // the resolver ranks it once.
      const key = need.op && need.evr ? `${need.name}\0${need.op}\0${formatEvr(need.evr)}` : need.name;
      out = this.providersByText.get(key);
      if (!out) {
        out = this.findProviders(need);
        this.providersByText.set(key, out);
      }
      this.providers.set(need, out);
    }
    return out;
  }

  private findProviders(need: Cap): Package[] {
    const out: Package[] = [];
    const d = this.data;
    // A fresh stamp marks the packages already listed; wrapping around clears the marks.
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const mark = (p: number) => {
      if (this.seen[p] === this.stamp) return;
      this.seen[p] = this.stamp;
      out.push(this.pkg(p));
    };
    const id = this.capId(need.name);
    if (id !== undefined) {
      const { provStart, provEntries, provPkg } = this.index;
      for (let k = provStart[id]!; k < provStart[id + 1]!; k++) {
        const e = provEntries[k]!;
        const p = provPkg[e]!;
        if (this.seen[p] === this.stamp) continue;
        const opCode = d.provOp[e]!;
        if (this.rangeMatches(OP_CODES[opCode]!, opCode ? this.evrOf(d.provEvr[e]!) : null, need)) mark(p);
      }
    }
    if (need.name.startsWith('/')) for (const p of this.files().get(need.name) ?? []) mark(p);
    return out;
  }

  private files(): Map<string, number[]> {
    if (!this.fileIndex) {
      const m = new Map<string, number[]>();
      const d = this.data;
      for (let p = 0; p < this.size; p++) {
        for (let k = d.fileOff[p]!; k < d.fileOff[p + 1]!; k++) {
          const f = this.str(d.file[k]!);
          const l = m.get(f);
          if (l) l.push(p);
          else m.set(f, [p]);
        }
      }
      this.fileIndex = m;
    }
    return this.fileIndex;
  }

  get needsFileLists(): boolean {
    return !this.filesComplete;
  }

  /** Loads the full file lists for the file requirements primary could not answer. Idempotent. */
  async completeFiles(): Promise<void> {
    if (this.filesComplete || !this.loadFiles) return;
    this.filesComplete = true;
    const index = this.files();
    const wanted = new Set<string>();
    const d = this.data;
    for (const arr of [d.req, d.rec]) {
      for (let k = 0; k < arr.length; k++) {
        const text = this.str(arr[k]!);
        if (text.startsWith('/') && !index.has(text) && this.capId(text) === undefined) wanted.add(text);
        else if (text.startsWith('(') && text.includes('/')) for (const m of text.matchAll(/(?:^|[\s(])(\/[^\s()]+)/g)) if (!index.has(m[1]!)) wanted.add(m[1]!);
      }
    }
    if (!wanted.size) return;
    const keys = new Map<string, number>();
    for (let p = 0; p < this.size; p++) keys.set(packageKey(this.pkg(p)), p);
    for (const [file, pkgKeys] of await this.loadFiles(wanted)) {
      const owners = index.get(file) ?? [];
      const listed = new Set(owners);
      for (const key of pkgKeys) {
        const p = keys.get(key);
        if (p === undefined || listed.has(p)) continue;
        listed.add(p);
        owners.push(p);
      }
      if (owners.length) index.set(file, owners);
    }
    // File providers grew: answers remembered so far may be short.
    this.providers = new WeakMap();
    this.providersByText = new Map();
    this.generation++;
  }
}

const WARNINGS_SHOWN = 50;

export function packageKey(p: Pick<Package, 'name' | 'evr' | 'arch'>): string {
  return `${p.name}-${formatEvr(p.evr)}.${p.arch}`;
}

/**
 * The pool as one buffer for the on-disk cache, and back. Layout: a
 * little-endian u32 header length and a u32 zero, the JSON header, padding to
 * 8 bytes, then the body: every typed array (the pool's columns, the string
 * table as UTF-8 bytes plus offsets, and the precomputed PoolIndex), each
 * 8-aligned. Loading makes views into the file's own buffer, no copies, no
 * per-string or per-package objects.
 *
 * The header carries a checksum of its other fields and the body, and loading
 * checks every id and offset (including the index's), so a damaged or edited
 * cache is refused (and rebuilt by the caller) instead of giving wrong
 * packages or crashing the resolver.
 */
const ARRAYS = [
  'name', 'archId', 'evr', 'repo', 'size', 'flags', 'provOff', 'provName', 'provOp', 'provEvr', 'reqOff', 'req', 'recOff', 'rec', 'obsOff', 'obs', 'fileOff', 'file',
  'strBytes', 'strOff', 'nameStart', 'namePkgs', 'provStart', 'provEntries', 'provPkg', 'lookup',
] as const;
type ArrayKey = (typeof ARRAYS)[number];

type TypedArrayCtor = { new (b: ArrayBuffer, offset: number, length: number): Int32Array | Float64Array | Uint8Array | Int8Array; BYTES_PER_ELEMENT: number };
const CTOR: Partial<Record<ArrayKey, TypedArrayCtor>> = { size: Float64Array, flags: Uint8Array, provOp: Int8Array, strBytes: Uint8Array };

/** The header is a few hundred bytes; anything near this is not one. */
const MAX_HEADER = 1 << 20;

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/**
 * The string table as UTF-8 bytes, each string followed by a NUL, and each
 * string's start (plus the end of the table). The usual case is one encode of
 * the joined text, split where the NULs fall; a string holding a NUL itself is
 * encoded one by one (the offsets, not the NULs, say where strings end).
 */
function encodeStrings(strings: string[] | StringTable): { bytes: Uint8Array; offsets: Int32Array } {
  if (!Array.isArray(strings)) return { bytes: strings.bytes, offsets: strings.offsets };
  const offsets = new Int32Array(strings.length + 1);
  if (!strings.some((str) => str.includes('\u0000'))) {
    const bytes = Buffer.from(strings.length ? strings.join('\u0000') + '\u0000' : '', 'utf8');
    let i = 1;
    for (let k = 0; k < bytes.length; k++) if (bytes[k] === 0) offsets[i++] = k + 1;
    return { bytes, offsets };
  }
  const parts = strings.map((str) => Buffer.from(str + '\u0000', 'utf8'));
  for (let s = 0; s < parts.length; s++) offsets[s + 1] = offsets[s]! + parts[s]!.length;
  return { bytes: Buffer.concat(parts), offsets };
}

/** CRC-32 (zlib's polynomial) in JS, for Node releases before zlib.crc32 (20.15): the same values. */
let crcTable: Int32Array | null = null;
function crc32js(data: Uint8Array, value = 0): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
const crc32 = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32 ?? crc32js;

/**
 * CRC-32 of the header's other fields and of the body. Not sha256: the cache
 * lives in the user's own 0700 directory, so whoever could forge it could
 * write anything there; the checksum only has to catch truncation, bit rot and
 * stray edits (CRC-32 catches every burst of up to 32 bits and all but 2^-32
 * of the rest), and the structural check keeps any content that passes from
 * crashing the resolver. sha256 of the ~12 MB body was ~15–20 ms of a warm
 * start; zlib's CRC-32 is ~4 ms.
 */
function checksum(head: string, body: Uint8Array | Uint8Array[]): string {
  let c = crc32(Buffer.from(head, 'utf8'));
  // Empty pieces skipped: zlib.crc32 of an empty view returns 0, not the value it was given (Node 20.20).
  for (const piece of Array.isArray(body) ? body : [body]) if (piece.length) c = crc32(piece, c);
  return `crc32:${c.toString(16).padStart(8, '0')}`;
}

/**
 * The cache file as a list of pieces, the arrays' own bytes among them: a
 * writev puts them on disk without a 12 MB body and a second 12 MB copy of
 * it in memory (the peak of a cold load). The checksum runs over the same
 * pieces in order.
 */
export function serializePoolPieces(d: PackedPool, meta: Record<string, unknown>, index: PoolIndex = indexPacked(d)): Uint8Array[] {
  const { bytes, offsets } = encodeStrings(d.strings);
  const all: Record<ArrayKey, ArrayBufferView> = { ...d, strBytes: bytes, strOff: offsets, ...index } as unknown as Record<ArrayKey, ArrayBufferView>;
  const layout: Array<[string, number, number]> = [];
  const body: Uint8Array[] = [];
  const zeros = new Uint8Array(8);
  let offset = 0;
  for (const key of ARRAYS) {
    const arr = all[key] as Int32Array;
    if (pad8(offset)) body.push(zeros.subarray(0, pad8(offset)));
    offset += pad8(offset);
    layout.push([key, offset, arr.length]);
    body.push(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    offset += arr.byteLength;
  }
  if (pad8(offset)) body.push(zeros.subarray(0, pad8(offset)));
  offset += pad8(offset);
  const { check: _previous, ...own } = meta;
  const fields = { ...own, scheme: d.scheme, arch: d.arch, nStrings: d.strings.length, body: offset, layout };
  const header = Buffer.from(JSON.stringify({ ...fields, check: checksum(JSON.stringify(fields), body) }), 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32LE(header.length, 0);
  return [head, header, zeros.subarray(0, pad8(8 + header.length)), ...body];
}

/** The cache file in one buffer. */
export function serializePool(d: PackedPool, meta: Record<string, unknown>, index: PoolIndex = indexPacked(d)): Buffer {
  return Buffer.concat(serializePoolPieces(d, meta, index));
}

interface CacheHeader {
  scheme: VersionScheme;
  arch: string;
  nStrings: number;
  body: number;
  check: string;
  layout: Array<[string, number, number]>;
  [k: string]: unknown;
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function readHeader(buf: Buffer): Parsed<{ header: CacheHeader; headerLen: number }> {
  if (buf.length < 8) return parseFailure('shorter than its fixed header');
  const headerLen = buf.readUInt32LE(0);
  if (buf.readUInt32LE(4) !== 0) return parseFailure('it is not a cache of this version');
  if (headerLen > MAX_HEADER || 8 + headerLen > buf.length) return parseFailure('its lengths run past the end of the file');
  let h: unknown;
  try {
    h = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch {
    return parseFailure('its header is not JSON');
  }
  const c = h as Partial<CacheHeader> | null;
  const layoutOk =
    Array.isArray(c?.layout) &&
    c.layout.length === ARRAYS.length &&
    c.layout.every((e, i) => Array.isArray(e) && e[0] === ARRAYS[i] && isCount(e[1]) && isCount(e[2]) && e[1] % 8 === 0);
  if (!c || typeof c !== 'object' || (c.scheme !== 'rpm' && c.scheme !== 'deb') || typeof c.arch !== 'string' || !isCount(c.nStrings) || !isCount(c.body) || c.body % 8 !== 0 || typeof c.check !== 'string' || !layoutOk) {
    return parseFailure('its header lacks fields or has the wrong types');
  }
  return parsed({ header: c as CacheHeader, headerLen });
}

export function deserializePool(buf: Buffer): Parsed<{ data: PackedPool; index: PoolIndex; meta: Record<string, unknown> }> {
  const h = readHeader(buf);
  if (!h.ok) return h;
  const { header, headerLen } = h.value;
  const bodyStart = 8 + headerLen + pad8(8 + headerLen);
  if (bodyStart + header.body !== buf.length) return parseFailure('its size does not match its header');
  let body: Uint8Array = buf.subarray(bodyStart);
  // Views need 8-aligned addresses; a file read into a fresh buffer has them, anything else is copied once.
  if (body.byteOffset % 8 !== 0) body = new Uint8Array(body);
  const { check, ...fields } = header;
  if (checksum(JSON.stringify(fields), body) !== check) return parseFailure('its checksum does not match its content');
  const out: Record<string, unknown> = {};
  let end = 0;
  for (const [key, offset, length] of header.layout) {
    const C = CTOR[key as ArrayKey] ?? Int32Array;
    const bytes = length * C.BYTES_PER_ELEMENT;
    if (offset < end || offset + bytes > header.body) return parseFailure(`array ${key} overlaps another or runs past the end`);
    end = offset + bytes;
    out[key] = new C(body.buffer as ArrayBuffer, body.byteOffset + offset, length);
  }
  const a = out as Record<ArrayKey, Int32Array>;
  const strOff = a.strOff;
  const strBytes = out.strBytes as Uint8Array;
  if (strOff.length !== header.nStrings + 1 || strOff[0] !== 0 || strOff[header.nStrings] !== strBytes.length) return parseFailure('its string table does not match its header');
  // Strictly increasing: every string has at least its terminating byte.
  for (let i = 0; i < header.nStrings; i++) if (!(strOff[i]! < strOff[i + 1]!)) return parseFailure('its string offsets go backwards');
  const strings = new StringTable(Buffer.from(strBytes.buffer, strBytes.byteOffset, strBytes.length), strOff);
  const data = { ...out, scheme: header.scheme, arch: header.arch, strings } as unknown as PackedPool;
  const index: PoolIndex = { nameStart: a.nameStart, namePkgs: a.namePkgs, provStart: a.provStart, provEntries: a.provEntries, provPkg: a.provPkg, lookup: a.lookup };
  const problem = checkPacked(data) ?? checkIndex(data, index);
  return problem ? parseFailure(problem) : parsed({ data, index, meta: header });
}

/** What Pool relies on from the index: every range within its array and every id within its table. */
function checkIndex(d: PackedPool, x: PoolIndex): string | null {
  const n = d.name.length;
  const nStr = d.strings.length;
  const nProv = d.provName.length;
  const csr = (start: Int32Array, len: number, what: string): string | null => {
    if (start.length !== nStr + 1 || start[0] !== 0 || start[nStr] !== len) return `the ${what} index does not span its array`;
    for (let i = 0; i < nStr; i++) if (start[i]! > start[i + 1]!) return `the ${what} index goes backwards`;
    return null;
  };
  const within = (arr: Int32Array, lo: number, hi: number, what: string): string | null => {
    for (let i = 0; i < arr.length; i++) if (!(arr[i]! >= lo && arr[i]! < hi)) return `the ${what} index refers to ${arr[i]} of ${hi}`;
    return null;
  };
  const size = x.lookup.length;
  if (size === 0 || (size & (size - 1)) !== 0) return 'the name table is not a power of two long';
  return (
    csr(x.nameStart, n, 'name') ?? csr(x.provStart, nProv, 'provide') ??
    (x.namePkgs.length !== n || x.provEntries.length !== nProv || x.provPkg.length !== nProv ? 'the index arrays differ in length from the pool' : null) ??
    within(x.namePkgs, 0, n, 'name') ?? within(x.provEntries, 0, nProv, 'provide') ?? within(x.provPkg, 0, n, 'provider') ?? within(x.lookup, -1, nStr, 'name table')
  );
}

/** Every id within the string table, every offset table monotonic and matching its array: what Pool relies on. */
export function checkPacked(d: PackedPool): string | null {
  const n = d.name.length;
  const nStr = d.strings.length;
  for (const key of ['archId', 'evr', 'repo', 'size', 'flags'] as const) if (d[key].length !== n) return `column ${key} has ${d[key].length} entries for ${n} packages`;
  const ids = (arr: Int32Array, what: string): string | null => {
    for (let i = 0; i < arr.length; i++) if (!(arr[i]! >= 0 && arr[i]! < nStr)) return `${what} refers to string ${arr[i]} of ${nStr}`;
    return null;
  };
  const offsets = (off: Int32Array, len: number, what: string): string | null => {
    if (off.length !== n + 1 || off[0] !== 0 || off[n] !== len) return `${what} offsets do not span their array`;
    for (let i = 0; i < n; i++) if (off[i]! > off[i + 1]!) return `${what} offsets go backwards`;
    return null;
  };
  const problem =
    ids(d.name, 'a name') ?? ids(d.archId, 'an architecture') ?? ids(d.evr, 'a version') ?? ids(d.repo, 'a repository') ??
    offsets(d.provOff, d.provName.length, 'provide') ?? offsets(d.reqOff, d.req.length, 'requirement') ?? offsets(d.recOff, d.rec.length, 'recommendation') ??
    offsets(d.obsOff, d.obs.length, 'obsolete') ?? offsets(d.fileOff, d.file.length, 'file') ??
    ids(d.provName, 'a provide') ?? ids(d.req, 'a requirement') ?? ids(d.rec, 'a recommendation') ?? ids(d.obs, 'an obsolete') ?? ids(d.file, 'a file');
  if (problem) return problem;
  if (d.provOp.length !== d.provName.length || d.provEvr.length !== d.provName.length) return 'provide columns differ in length';
  for (let k = 0; k < d.provOp.length; k++) {
    const op = d.provOp[k]!;
    if (op < 0 || op >= OP_CODES.length) return `a provide has operator code ${op}`;
    const evr = d.provEvr[k]!;
    if (op === 0 ? evr !== -1 : !(evr >= 0 && evr < nStr)) return `a provide's version refers to string ${evr}`;
  }
  for (let i = 0; i < n; i++) {
    const size = d.size[i]!;
    if (!(size >= 0 && size <= Number.MAX_SAFE_INTEGER)) return `a package has size ${size}`;
    if (d.flags[i]! >> 1 > MAX_PRIORITY) return `a package has priority ${d.flags[i]! >> 1}`;
  }
  return null;
}
