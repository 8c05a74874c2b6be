/**
 * primary.xml read as bytes: the <package> elements are split from the
 * decompressed pieces and each is scanned once, and names, versions and
 * dependencies go to the pool's string table as byte ranges. No JavaScript
 * string is made for a field unless it holds an entity reference, so a
 * 64k-package file costs neither a decode of its 70 MB nor the garbage of
 * millions of slices.
 *
 * What is read is what the string reader read: the first <name> and <arch>,
 * the first self-closing <version …/> and <size …/>, the <rpm:entry …/> tags
 * of the first provides, requires, recommends and obsoletes section, and
 * the plain <file> elements; everything else is passed over.
 */
import { OP_CODE, type PoolBuilder } from './pool.js';
import { rpmInstallable } from './arch.js';
import { BYTE_TEXT, naming, PackageSplitter, unescapeXml } from './xmltext.js';

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QUOTE = 0x22;
const AMP = 0x26;
const EQUALS = 0x3d;

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const NAME = latin1('name');
const ARCH = latin1('arch');
const VERSION = latin1('version');
const SIZE = latin1('size');
const ENTRY = latin1('rpm:entry');
const FILE = latin1('file');
const RPMLIB = latin1('rpmlib(');
/** The dependency sections, in the order of their kind codes below. */
const SECTIONS = ['rpm:provides', 'rpm:requires', 'rpm:recommends', 'rpm:obsoletes'].map(latin1);
const KIND = ['prov', 'req', 'rec', 'obs'] as const;
/** The three file tags primary has; anything else named file is not one. */
const FILE_TAGS = ['<file>', '<file type="dir">', '<file type="ghost">'].map(latin1);
/** " < ", " <= " … between a dependency's name and version, by operator code (1 = LT … 5 = GT). */
const OP_GLUE = [null, ' < ', ' <= ', ' = ', ' >= ', ' > '].map((t) => (t ? latin1(t) : null));
const COLON = latin1(':');
const DASH = latin1('-');
const ZERO = latin1('0');

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
/** The characters that end a tag's name, as the string reader counted them. */
const isTagEnd = (c: number | undefined) => c === 0x20 || c === GT || c === SLASH || c === 0x09 || c === 0x0a || c === 0x0d;

function same(b: Uint8Array, at: number, word: Uint8Array): boolean {
  if (at + word.length > b.length) return false;
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

/** Copies bytes [s, e) of `from` to `to` at `at` (a loop: most fields are a few bytes, where a subarray costs more than the copy). */
function copyBytes(to: Uint8Array, at: number, from: Uint8Array, s: number, e: number): void {
  if (e - s > 64) to.set(from.subarray(s, e), at);
  else for (let k = s; k < e; k++) to[at++] = from[k]!;
}

const NO = -1;

/** The attributes of one tag, each as a byte range [s, e) of the block; s = NO when absent. */
class Attrs {
  name = NO; nameEnd = 0;
  flags = NO; flagsEnd = 0;
  epoch = NO; epochEnd = 0;
  ver = NO; verEnd = 0;
  rel = NO; relEnd = 0;
  installed = NO; installedEnd = 0;

  /** Reads the attributes between `from` and the tag's ">" at `gt`; the first of each name counts. */
  read(b: Uint8Array, from: number, gt: number): this {
    this.name = this.flags = this.epoch = this.ver = this.rel = this.installed = NO;
    let i = from;
    while (i < gt) {
      while (i < gt && isSpace(b[i]!)) i++;
      const k = i;
      while (i < gt && b[i] !== EQUALS && !isSpace(b[i]!) && b[i] !== SLASH) i++;
      const len = i - k;
      if (len === 0 || b[i] !== EQUALS || b[i + 1] !== QUOTE) {
        i++;
        continue;
      }
      const vs = i + 2;
      let ve = vs;
      while (ve < gt && b[ve] !== QUOTE) ve++;
      if (ve >= gt) return this; // unterminated: no value, as in the string reader
      i = ve + 1;
      const c = b[k];
      if (len === 4 && c === 0x6e && same(b, k, NAME)) {
        if (this.name === NO) [this.name, this.nameEnd] = [vs, ve];
      } else if (len === 5 && c === 0x66 && b[k + 1] === 0x6c) {
        if (this.flags === NO) [this.flags, this.flagsEnd] = [vs, ve];
      } else if (len === 5 && c === 0x65 && b[k + 1] === 0x70) {
        if (this.epoch === NO) [this.epoch, this.epochEnd] = [vs, ve];
      } else if (len === 3 && c === 0x76 && b[k + 1] === 0x65 && b[k + 2] === 0x72) {
        if (this.ver === NO) [this.ver, this.verEnd] = [vs, ve];
      } else if (len === 3 && c === 0x72 && b[k + 1] === 0x65 && b[k + 2] === 0x6c) {
        if (this.rel === NO) [this.rel, this.relEnd] = [vs, ve];
      } else if (len === 9 && c === 0x69) {
        if (this.installed === NO) [this.installed, this.installedEnd] = [vs, ve];
      }
    }
    return this;
  }

  /** The comparison in flags="…" as an operator code (1 LT … 5 GT), 0 when there is none. */
  op(b: Uint8Array): number {
    if (this.flags === NO || this.flagsEnd - this.flags !== 2) return 0;
    const x = b[this.flags]!;
    const y = b[this.flags + 1]!;
    if (x === 0x45 && y === 0x51) return OP_CODE.EQ;
    if (x === 0x47) return y === 0x45 ? OP_CODE.GE : y === 0x54 ? OP_CODE.GT : 0;
    if (x === 0x4c) return y === 0x45 ? OP_CODE.LE : y === 0x54 ? OP_CODE.LT : 0;
    return 0;
  }
}

/** A growing byte buffer where fields are put together ("[epoch:]ver[-rel]", "name >= evr") or unescaped. */
class Bytes {
  buf = Buffer.allocUnsafeSlow(1 << 12);
  n = 0;

  reset(): this {
    this.n = 0;
    return this;
  }

  private room(len: number): void {
    if (this.n + len <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.n + len));
    this.buf.copy(bigger, 0, 0, this.n);
    this.buf = bigger;
  }

  /** Appends bytes [s, e) of `b`, unescaping XML's entities and character references when there are any. */
  field(b: Uint8Array, s: number, e: number): this {
    let amp = false;
    for (let i = s; i < e; i++) {
      if (b[i] === AMP) {
        amp = true;
        break;
      }
    }
    if (amp) {
      const text = unescapeXml(Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('utf8'));
      this.room(text.length * 3);
      this.n += this.buf.write(text, this.n, 'utf8');
      return this;
    }
    this.room(e - s);
    copyBytes(this.buf, this.n, b, s, e);
    this.n += e - s;
    return this;
  }

  raw(b: Uint8Array): this {
    return this.field(b, 0, b.length);
  }

  text(): string {
    return this.buf.toString('utf8', 0, this.n);
  }
}

/** Positions found in one pass over a block, read once the package is known to be wanted. */
class Marks {
  at = new Int32Array(256);
  n = 0;
  push(kind: number, start: number, gt: number): void {
    if (this.n + 3 > this.at.length) {
      const more = new Int32Array(this.at.length * 2);
      more.set(this.at);
      this.at = more;
    }
    this.at[this.n++] = kind;
    this.at[this.n++] = start;
    this.at[this.n++] = gt;
  }
}

/** Kind codes of the marks: 0–3 an entry of SECTIONS[kind], 4 a file's text [start, gt). */
const FILE_MARK = 4;

/** Reads one <package> element's bytes into the builder. */
class PackageReader {
  private readonly attrs = new Attrs();
  private readonly field = new Bytes();
  private readonly evr = new Bytes();
  private readonly dep = new Bytes();
  private readonly marks = new Marks();
  private readonly archOk = new Map<number, boolean>();
  private readonly repoId: number;
  skipped = 0;

  constructor(
    private readonly builder: PoolBuilder,
    repoName: string,
  ) {
    this.repoId = builder.intern(repoName);
  }

  read(b: Uint8Array): void {
    const end = b.length;
    let name = NO, nameEnd = 0, arch = NO, archEnd = 0, version = NO, versionGt = 0, size = NO, sizeGt = 0;
    /** The section being read (0–3), -1 outside one; each kind is read in its first section only. */
    let section = -1;
    let sectionsSeen = 0;
    const marks = this.marks;
    marks.n = 0;
    let i = 0;
    while (i < end) {
      while (i < end && b[i] !== LT) i++;
      if (i >= end) break;
      const c = b[i + 1];
      if (c === SLASH) {
        if (section >= 0) {
          const tag = SECTIONS[section]!;
          if (b[i + 2 + tag.length] === GT && same(b, i + 2, tag)) section = -1;
        }
        i++;
        continue;
      }
      if (c === 0x72 && section >= 0 && same(b, i + 1, ENTRY) && b[i + 1 + ENTRY.length] === 0x20) {
        let gt = i + 1;
        while (gt < end && b[gt] !== GT && b[gt] !== LT) gt++;
        // An entry that does not end before the next tag ends its section, as in the string reader.
        if (gt >= end || b[gt] !== GT) {
          section = -1;
          i = gt;
          continue;
        }
        marks.push(section, i + 1 + ENTRY.length, gt);
        i = gt;
        continue;
      }
      if (c === 0x72 && section < 0) {
        let k = 0;
        for (; k < SECTIONS.length; k++) if (!(sectionsSeen & (1 << k)) && b[i + 1 + SECTIONS[k]!.length] === GT && same(b, i + 1, SECTIONS[k]!)) break;
        if (k < SECTIONS.length) {
          section = k;
          sectionsSeen |= 1 << k;
          i += SECTIONS[k]!.length + 2;
          continue;
        }
      }
      if (c === 0x6e && name === NO && b[i + 5] === GT && same(b, i + 1, NAME)) {
        name = i + 6;
        nameEnd = closing(b, name, NAME);
        if (nameEnd < 0) return this.skip();
        i = nameEnd;
        continue;
      }
      if (c === 0x61 && arch === NO && b[i + 5] === GT && same(b, i + 1, ARCH)) {
        arch = i + 6;
        archEnd = closing(b, arch, ARCH);
        if (archEnd < 0) return this.skip();
        i = archEnd;
        continue;
      }
      if ((c === 0x76 && version === NO && same(b, i + 1, VERSION) && isTagEnd(b[i + 1 + VERSION.length])) || (c === 0x73 && size === NO && same(b, i + 1, SIZE) && isTagEnd(b[i + 1 + SIZE.length]))) {
        let gt = i + 1;
        while (gt < end && b[gt] !== GT) gt++;
        if (gt >= end) break;
        if (b[gt - 1] === SLASH) {
          if (c === 0x76) [version, versionGt] = [i + 1 + VERSION.length, gt];
          else [size, sizeGt] = [i + 1 + SIZE.length, gt];
        }
        i = gt;
        continue;
      }
      if (c === 0x66 && same(b, i + 1, FILE) && isTagEnd(b[i + 1 + FILE.length])) {
        let gt = i + 1;
        while (gt < end && b[gt] !== GT) gt++;
        if (gt >= end) break;
        const len = gt + 1 - i;
        if (FILE_TAGS.some((t) => t.length === len && same(b, i, t))) {
          let lt = gt + 1;
          while (lt < end && b[lt] !== LT) lt++;
          if (lt >= end) break;
          if (b[lt + 1] === SLASH && b[lt + 2 + FILE.length] === GT && same(b, lt + 2, FILE)) marks.push(FILE_MARK, gt + 1, lt);
          i = lt;
          continue;
        }
        i = gt;
        continue;
      }
      i++;
    }
    if (name === NO || arch === NO || version === NO || name === nameEnd || arch === archEnd) return this.skip();
    const b2 = this.builder;
    const nameId = b2.internBytes(...this.unescaped(b, name, nameEnd));
    const archBytes = this.unescaped(b, arch, archEnd);
    if (archBytes[2] === archBytes[1]) return this.skip();
    const archId = b2.internBytes(...archBytes);
    let ok = this.archOk.get(archId);
    if (ok === undefined) {
      const text = this.field.text();
      ok = text !== 'src' && text !== 'nosrc' && rpmInstallable(b2.arch, text);
      this.archOk.set(archId, ok);
    }
    // Source packages, and binaries this architecture cannot run (libsolv leaves them uninstallable).
    if (!ok) return;
    const evrId = this.composeEvr(b, this.attrs.read(b, version, versionGt)) ? b2.internBytes(this.evr.buf, 0, this.evr.n) : b2.internBytes(ZERO, 0, 1);
    let installSize = 0;
    if (size !== NO && this.attrs.read(b, size, sizeGt).installed !== NO) {
      const n = Number(this.field.reset().field(b, this.attrs.installed, this.attrs.installedEnd).text());
      installSize = Number.isSafeInteger(n) && n >= 0 ? n : 0;
    }
    b2.addIds(nameId, archId, evrId, this.repoId, { installSize });
    // Provides first, then each dependency kind, then files: the order the pool's lists are filled in.
    for (const kind of [0, 1, 2, 3, FILE_MARK]) {
      for (let m = 0; m < marks.n; m += 3) if (marks.at[m] === kind) this.mark(b, kind, marks.at[m + 1]!, marks.at[m + 2]!);
    }
  }

  private skip(): void {
    this.skipped++;
  }

  /** [buffer, s, e] of the field's bytes, unescaped into this.field when it holds an entity. */
  private unescaped(b: Uint8Array, s: number, e: number): [Uint8Array, number, number] {
    const f = this.field.reset().field(b, s, e);
    return [f.buf, 0, f.n];
  }

  /** Puts "[epoch:]ver[-rel]" of the attributes into this.evr; false when there is no ver. */
  private composeEvr(b: Uint8Array, a: Attrs): boolean {
    if (a.ver === NO) return false;
    const out = this.evr.reset();
    if (a.epoch !== NO && a.epochEnd > a.epoch && !(a.epochEnd - a.epoch === 1 && b[a.epoch] === 0x30)) {
      out.field(b, a.epoch, a.epochEnd);
      // An epoch that unescapes to "0" or to nothing is no epoch either.
      if (out.n === 0 || (out.n === 1 && out.buf[0] === 0x30)) out.reset();
      else out.raw(COLON);
    }
    out.field(b, a.ver, a.verEnd);
    if (a.rel !== NO) out.raw(DASH).field(b, a.rel, a.relEnd);
    return true;
  }

  private mark(b: Uint8Array, kind: number, start: number, gt: number): void {
    const b2 = this.builder;
    if (kind === FILE_MARK) {
      b2.dependId('file', b2.internBytes(...this.unescaped(b, start, gt)));
      return;
    }
    const a = this.attrs.read(b, start, gt);
    if (a.name === NO || a.nameEnd === a.name) return;
    const op = a.op(b);
    const d = this.dep.reset().field(b, a.name, a.nameEnd);
    if (d.n === 0) return;
    if (kind === 0) {
      const nameId = b2.internBytes(d.buf, 0, d.n);
      if (op && this.composeEvr(b, a)) b2.provideIds(nameId, op, b2.internBytes(this.evr.buf, 0, this.evr.n));
      else b2.provideIds(nameId, 0, -1);
      return;
    }
    // rpm's own feature flags, not packages.
    if (d.n >= RPMLIB.length && same(d.buf, 0, RPMLIB)) return;
    if (op && this.composeEvr(b, a)) d.raw(OP_GLUE[op]!).raw(this.evr.buf.subarray(0, this.evr.n));
    b2.dependId(KIND[kind] as 'req' | 'rec' | 'obs', b2.internBytes(d.buf, 0, d.n));
  }
}

/** The position of the first `</tag>` at or after `from`, or -1. */
function closing(b: Uint8Array, from: number, tag: Uint8Array): number {
  for (let j = from; j + tag.length + 2 < b.length; j++) {
    if (b[j] === LT && b[j + 1] === SLASH && b[j + tag.length + 2] === GT && same(b, j + 2, tag)) return j;
  }
  return -1;
}

/** Appends every binary package of a primary.xml, given in pieces, to the builder. */
export async function parsePrimaryBytes(pieces: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, repoName: string, builder: PoolBuilder, what = 'primary.xml'): Promise<{ warnings: string[] }> {
  const split = new PackageSplitter(BYTE_TEXT, what, true);
  const reader = new PackageReader(builder, repoName);
  const each = (block: Buffer) => reader.read(block);
  for await (const piece of pieces) naming(what, () => split.feed(typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece, each));
  split.end();
  const skipped = reader.skipped;
  return { warnings: skipped ? [`${what}: ${skipped === 1 ? 'a package' : `${skipped} packages`} without name, arch or version ${skipped === 1 ? 'was' : 'were'} skipped`] : [] };
}
