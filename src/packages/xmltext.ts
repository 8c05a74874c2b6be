/**
 * What the rpm-md readers share: XML's five entities and character
 * references, and the splitting of a document that arrives in pieces into
 * its <package> elements, as strings (file lists) or as bytes (primary).
 */
import { InputError } from '../errors.js';

export const REFRESH_HINT = 'refresh or rebuild the repository metadata';

/** A character reference that is not an XML character (XML 1.0 production [2]). */
export class XmlSyntax extends Error {}

function xmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

export function unescapeXml(s: string): string {
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
export function naming<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof XmlSyntax) throw new InputError(`${what}: ${err.message}`, REFRESH_HINT);
    throw err;
  }
}

/** The longest text before the root element that is searched for it; real files have a line or two. */
const HEAD_MAX = 1 << 20;

/** The operations the splitter needs from its text: a string, or bytes in a Buffer. */
interface TextKind<T> {
  open: T;
  close: T;
  empty: T;
  concat(parts: T[]): T;
  /** The text between a and b, as a string, for the checks of the document's edges. */
  outside(t: T, a: number, b: number): string;
}

export const STRING_TEXT: TextKind<string> = {
  open: '<package ',
  close: '</package>',
  empty: '',
  concat: (parts) => parts.join(''),
  outside: (t, a, b) => t.slice(a, b),
};

export const BYTE_TEXT: TextKind<Buffer> = {
  open: Buffer.from('<package '),
  close: Buffer.from('</package>'),
  empty: Buffer.alloc(0),
  concat: (parts) => Buffer.concat(parts),
  outside: (t, a, b) => t.toString('utf8', a, b),
};

type Sliceable<T> = { length: number; indexOf(needle: T, from: number): number; slice(a: number, b?: number): T };

/**
 * Splits a metadata document that arrives in pieces into its <package>
 * elements, holding only an unfinished element and a few characters of the
 * text between them: the document itself (70 MB for 64k packages) is never
 * joined. Each piece is searched once (the pieces of an element that spans
 * several are joined when its end arrives), so hostile input, one enormous
 * element or none at all, stays linear. In primary (strict) the root element
 * must come first, an element cut off is an error and so is a missing
 * closing </metadata>; in file lists the end of the data is the end.
 * (Buffer's slice is a view, a string's a copy or a view: either way the
 * blocks handed out share the pieces' storage, so keep none of them.)
 */
export class PackageSplitter<T extends Sliceable<T>> {
  /** Pieces of an element whose end has not arrived. */
  private open: T[] | null = null;
  /** The last characters of the previous piece, which may begin a tag that ends in this one. */
  private carry: T;
  /** Text before the first element, until the root element is found in it. */
  private head: string | null = '';
  /** The last non-blank characters outside elements, and the blanks after them: the closing tag is read here. */
  private ending = '';
  private blanks = '';

  constructor(
    private readonly kind: TextKind<T>,
    private readonly what: string,
    private readonly strict: boolean,
  ) {
    this.carry = kind.empty;
  }

  feed(piece: T, each: (block: T) => void): void {
    const { open: OPEN, close: CLOSE } = this.kind;
    const t = this.carry.length ? this.kind.concat([this.carry, piece]) : piece;
    this.carry = this.kind.empty;
    let i = 0;
    for (;;) {
      if (!this.open) {
        const s = t.indexOf(OPEN, i);
        // Anything from the last OPEN.length - 1 characters on may be the start of an element.
        const upto = s < 0 ? Math.max(i, t.length - (OPEN.length - 1)) : s;
        if (upto > i) this.outside(this.kind.outside(t, i, upto));
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
        if (keep > i) this.open.push(t.slice(i, keep));
        this.carry = t.slice(keep);
        return;
      }
      const block = this.open.length ? this.kind.concat([...this.open, t.slice(i, e)]) : t.slice(i, e);
      this.open = null;
      i = e + CLOSE.length;
      each(block);
    }
  }

  /** After the last piece: is the document whole? */
  end(): void {
    if (!this.strict) return;
    if (this.open) throw new InputError(`${this.what}: truncated inside a <package> element`, REFRESH_HINT);
    if (this.carry.length) this.outside(this.kind.outside(this.carry, 0, this.carry.length));
    this.carry = this.kind.empty;
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
