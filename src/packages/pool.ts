/**
 * One graph model behind every metadata source (rpm-md, dnf dump, apt).
 * A Fedora- or Debian-sized repository is ~64,000 packages and half a
 * million dependency entries, so the pool is packed: interned strings and
 * typed arrays, with dependency strings parsed only for the packages a
 * resolution actually touches. That keeps memory small and lets the cache
 * load without rebuilding millions of objects.
 */
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
const OP_CODE: Record<Op, number> = { LT: 1, LE: 2, EQ: 3, GE: 4, GT: 5 };
const FLAG: Record<Op, number> = { LT: 1, LE: 3, EQ: 2, GE: 6, GT: 4 };
const LESS = 1;
const EQUAL = 2;
const GREATER = 4;

export interface PackedPool {
  scheme: VersionScheme;
  /** The native architecture: x86_64 (rpm) or amd64 (deb). */
  arch: string;
  strings: string[];
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

export interface PoolSource {
  data: PackedPool;
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

/** Parsers append packages and their dependency strings here; `finish` packs them. */
export class PoolBuilder {
  private readonly ids = new Map<string, number>();
  private readonly strings: string[] = [];
  private readonly cols = { name: [] as number[], arch: [] as number[], evr: [] as number[], repo: [] as number[], size: [] as number[], flags: [] as number[] };
  private readonly lists = {
    prov: { off: [] as number[], a: [] as number[], op: [] as number[], evr: [] as number[] },
    req: { off: [] as number[], a: [] as number[] },
    rec: { off: [] as number[], a: [] as number[] },
    obs: { off: [] as number[], a: [] as number[] },
    file: { off: [] as number[], a: [] as number[] },
  };
  private hasSelfProvide = true;
  private current = -1;

  constructor(
    readonly scheme: VersionScheme,
    readonly arch: string,
  ) {}

  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  get count(): number {
    return this.cols.name.length;
  }

  private closeSelf() {
    // Every package provides its own name at its own version.
    if (this.current >= 0 && !this.hasSelfProvide) {
      const n = this.cols.name[this.current]!;
      this.pushProvide(n, OP_CODE.EQ, this.cols.evr[this.current]!);
    }
  }

  add(p: NewPackage): void {
    this.closeSelf();
    this.current = this.cols.name.length;
    this.hasSelfProvide = false;
    this.cols.name.push(this.intern(p.name));
    this.cols.arch.push(this.intern(p.arch));
    this.cols.evr.push(this.intern(p.evr));
    this.cols.repo.push(this.intern(p.repo));
    this.cols.size.push(p.installSize);
    this.cols.flags.push((p.essential ? 1 : 0) | ((p.priority ?? 0) << 1));
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
    const n = this.intern(name);
    if (n === this.cols.name[this.current]) this.hasSelfProvide = true;
    this.pushProvide(n, op && evr !== null ? OP_CODE[op] : 0, op && evr !== null ? this.intern(evr) : -1);
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
    const off = (l: { off: number[]; a: number[] }) => Int32Array.from([...l.off, l.a.length]);
    return {
      scheme: this.scheme,
      arch: this.arch,
      strings: this.strings,
      name: Int32Array.from(this.cols.name),
      archId: Int32Array.from(this.cols.arch),
      evr: Int32Array.from(this.cols.evr),
      repo: Int32Array.from(this.cols.repo),
      size: Float64Array.from(this.cols.size),
      flags: Uint8Array.from(this.cols.flags),
      provOff: off(this.lists.prov),
      provName: Int32Array.from(this.lists.prov.a),
      provOp: Int8Array.from(this.lists.prov.op),
      provEvr: Int32Array.from(this.lists.prov.evr),
      reqOff: off(this.lists.req),
      req: Int32Array.from(this.lists.req.a),
      recOff: off(this.lists.rec),
      rec: Int32Array.from(this.lists.rec.a),
      obsOff: off(this.lists.obs),
      obs: Int32Array.from(this.lists.obs.a),
      fileOff: off(this.lists.file),
      file: Int32Array.from(this.lists.file.a),
    };
  }
}

export class Pool {
  readonly scheme: VersionScheme;
  readonly arch: string;
  readonly data: PackedPool;
  private readonly byName = new Map<string, number[]>();
  /** Provide entries grouped by capability name: CSR over string ids. */
  private readonly provStart: Int32Array;
  private readonly provEntries: Int32Array;
  private readonly provPkg: Int32Array;
  private readonly capIds = new Map<string, number>();
  private readonly objects: Array<Package | undefined>;
  private readonly evrs = new Map<number, Evr>();
  private readonly reqs = new Map<number, Req | null>();
  private fileIndex: Map<string, number[]> | null = null;
  private filesComplete: boolean;
  private readonly loadFiles: PoolSource['loadFiles'];
  /** Dependency strings that did not parse, reported once. */
  readonly warnings: string[] = [];

  constructor(source: PoolSource) {
    const d = source.data;
    this.data = d;
    this.scheme = d.scheme;
    this.arch = d.arch;
    this.loadFiles = source.loadFiles;
    this.filesComplete = !source.loadFiles;
    const n = d.name.length;
    this.objects = new Array(n);
    for (let i = 0; i < n; i++) {
      const name = d.strings[d.name[i]!]!;
      const l = this.byName.get(name);
      if (l) l.push(i);
      else this.byName.set(name, [i]);
    }
    const nStr = d.strings.length;
    const counts = new Int32Array(nStr + 1);
    for (let k = 0; k < d.provName.length; k++) counts[d.provName[k]! + 1]!++;
    // Only capability names need a reverse lookup from text.
    for (let s = 0; s < nStr; s++) if (counts[s + 1]) this.capIds.set(d.strings[s]!, s);
    for (let s = 0; s < nStr; s++) counts[s + 1]! += counts[s]!;
    this.provStart = counts;
    const fill = counts.slice(0, nStr);
    this.provEntries = new Int32Array(d.provName.length);
    this.provPkg = new Int32Array(d.provName.length);
    for (let p = 0; p < n; p++) {
      for (let k = d.provOff[p]!; k < d.provOff[p + 1]!; k++) {
        this.provPkg[k] = p;
        this.provEntries[fill[d.provName[k]!]!++] = k;
      }
    }
  }

  get size(): number {
    return this.data.name.length;
  }

  private capId(name: string): number | undefined {
    return this.capIds.get(name);
  }

  evrOf(id: number): Evr {
    let e = this.evrs.get(id);
    if (!e) {
      e = parseEvr(this.data.strings[id]!);
      this.evrs.set(id, e);
    }
    return e;
  }

  private reqOf(id: number): Req | null {
    if (this.reqs.has(id)) return this.reqs.get(id)!;
    const text = this.data.strings[id]!;
    const r = parseReq(text);
    if (!r.ok) this.warnings.push(`${r.error}; requirement ignored`);
    const req = r.ok ? r.req : null;
    this.reqs.set(id, req);
    return req;
  }

  private reqList(off: Int32Array, arr: Int32Array, p: number): Req[] {
    const out: Req[] = [];
    for (let k = off[p]!; k < off[p + 1]!; k++) {
      const r = this.reqOf(arr[k]!);
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
        name: d.strings[d.name[id]!]!,
        arch: d.strings[d.archId[id]!]!,
        evr: this.evrOf(d.evr[id]!),
        installSize: d.size[id]!,
        requires: this.reqList(d.reqOff, d.req, id),
        recommends: this.reqList(d.recOff, d.rec, id),
        obsoletes,
        repo: d.strings[d.repo[id]!]!,
        essential: (d.flags[id]! & 1) === 1,
        priority: d.flags[id]! >> 1,
      };
      this.objects[id] = o;
    }
    return o;
  }

  named(name: string): Package[] {
    return (this.byName.get(name) ?? []).map((i) => this.pkg(i));
  }

  /** Every package name, for fuzzy search. */
  names(): IterableIterator<string> {
    return this.byName.keys();
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

  /** Packages providing a capability (files included), in pool order, each once. */
  whatProvides(need: Cap): Package[] {
    const out: Package[] = [];
    const d = this.data;
    const id = this.capId(need.name);
    if (id !== undefined) {
      let last = -1;
      for (let k = this.provStart[id]!; k < this.provStart[id + 1]!; k++) {
        const e = this.provEntries[k]!;
        const p = this.provPkg[e]!;
        if (p === last) continue;
        const opCode = d.provOp[e]!;
        if (this.rangeMatches(OP_CODES[opCode]!, opCode ? this.evrOf(d.provEvr[e]!) : null, need)) {
          const pkg = this.pkg(p);
          if (!out.includes(pkg)) out.push(pkg);
          last = p;
        }
      }
    }
    if (need.name.startsWith('/')) {
      for (const p of this.files().get(need.name) ?? []) {
        const pkg = this.pkg(p);
        if (!out.includes(pkg)) out.push(pkg);
      }
    }
    return out;
  }

  private files(): Map<string, number[]> {
    if (!this.fileIndex) {
      const m = new Map<string, number[]>();
      const d = this.data;
      for (let p = 0; p < this.size; p++) {
        for (let k = d.fileOff[p]!; k < d.fileOff[p + 1]!; k++) {
          const f = d.strings[d.file[k]!]!;
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
        const text = d.strings[arr[k]!]!;
        if (text.startsWith('/') && !index.has(text) && this.capId(text) === undefined) wanted.add(text);
        else if (text.startsWith('(') && text.includes('/')) for (const m of text.matchAll(/(?:^|[\s(])(\/[^\s()]+)/g)) if (!index.has(m[1]!)) wanted.add(m[1]!);
      }
    }
    if (!wanted.size) return;
    const keys = new Map<string, number>();
    for (let p = 0; p < this.size; p++) keys.set(packageKey(this.pkg(p)), p);
    for (const [file, pkgKeys] of await this.loadFiles(wanted)) {
      for (const key of pkgKeys) {
        const p = keys.get(key);
        if (p === undefined) continue;
        const l = index.get(file);
        if (l) {
          if (!l.includes(p)) l.push(p);
        } else index.set(file, [p]);
      }
    }
  }
}

export function packageKey(p: Pick<Package, 'name' | 'evr' | 'arch'>): string {
  return `${p.name}-${formatEvr(p.evr)}.${p.arch}`;
}

/** The pool as one buffer for the on-disk cache, and back. */
const ARRAYS = ['name', 'archId', 'evr', 'repo', 'size', 'flags', 'provOff', 'provName', 'provOp', 'provEvr', 'reqOff', 'req', 'recOff', 'rec', 'obsOff', 'obs', 'fileOff', 'file'] as const;

export function serializePool(d: PackedPool, meta: Record<string, unknown>): Buffer {
  const strings = Buffer.from(d.strings.join('\u0000'), 'utf8');
  const parts: Buffer[] = [];
  const layout: Array<[string, number, number]> = [];
  let offset = 0;
  for (const key of ARRAYS) {
    const arr = d[key];
    const buf = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    const pad = (8 - (offset % 8)) % 8;
    if (pad) parts.push(Buffer.alloc(pad));
    offset += pad;
    layout.push([key, offset, arr.length]);
    parts.push(buf);
    offset += buf.length;
  }
  const header = Buffer.from(JSON.stringify({ ...meta, scheme: d.scheme, arch: d.arch, strings: strings.length, nStrings: d.strings.length, layout }), 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32LE(header.length, 0);
  head.writeUInt32LE(strings.length, 4);
  const body = Buffer.concat(parts);
  return Buffer.concat([head, header, strings, Buffer.alloc((8 - ((8 + header.length + strings.length) % 8)) % 8), body]);
}

export function deserializePool(buf: Buffer): { data: PackedPool; meta: Record<string, unknown> } {
  const headerLen = buf.readUInt32LE(0);
  const stringsLen = buf.readUInt32LE(4);
  const meta = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown> & {
    scheme: VersionScheme;
    arch: string;
    nStrings: number;
    layout: Array<[string, number, number]>;
  };
  const strings = buf.subarray(8 + headerLen, 8 + headerLen + stringsLen).toString('utf8').split('\u0000');
  if (strings.length !== meta.nStrings) throw new Error('string table does not match its header');
  const bodyStart = 8 + headerLen + stringsLen + ((8 - ((8 + headerLen + stringsLen) % 8)) % 8);
  const out: Record<string, unknown> = { scheme: meta.scheme, arch: meta.arch, strings };
  const ctor: Record<string, { new (b: ArrayBuffer): Int32Array | Float64Array | Uint8Array | Int8Array; BYTES_PER_ELEMENT: number }> = {
    size: Float64Array, flags: Uint8Array, provOp: Int8Array,
  };
  for (const [key, offset, length] of meta.layout) {
    const C = ctor[key] ?? Int32Array;
    const start = bodyStart + offset;
    const bytes = length * C.BYTES_PER_ELEMENT;
    if (start + bytes > buf.length) throw new Error(`array ${key} runs past the end of the file`);
    // Copy: the file buffer's offsets need not be aligned for typed-array views.
    out[key] = new C((buf.buffer as ArrayBuffer).slice(buf.byteOffset + start, buf.byteOffset + start + bytes));
  }
  return { data: out as unknown as PackedPool, meta };
}
