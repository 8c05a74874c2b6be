/**
 * Dependencies as data: simple capabilities (`name [op evr]`) and rpm's rich
 * (boolean) dependencies. Parsing never throws: bad input becomes a typed error.
 */
import { LIMITS } from '../limits.js';
import { parseEvr, type Evr } from './version.js';

export type Op = 'LT' | 'LE' | 'EQ' | 'GE' | 'GT';

export interface Cap {
  name: string;
  op: Op | null;
  evr: Evr | null;
}

export type Req =
  | { kind: 'cap'; cap: Cap }
  | { kind: 'and' | 'or' | 'with' | 'without'; args: Req[] }
  | { kind: 'if' | 'unless'; then: Req; cond: Req; else: Req | null };

const OPS: Record<string, Op> = { '<': 'LT', '<=': 'LE', '=': 'EQ', '==': 'EQ', '>=': 'GE', '>': 'GT', '<<': 'LT', '>>': 'GT' };
const OP_TEXT: Record<Op, string> = { LT: '<', LE: '<=', EQ: '=', GE: '>=', GT: '>' };

export function cap(name: string, op: Op | null = null, evr: string | Evr | null = null): Cap {
  return { name, op, evr: typeof evr === 'string' ? parseEvr(evr) : evr };
}

export function capToString(c: Cap): string {
  if (!c.op || !c.evr) return c.name;
  const e = c.evr;
  return `${c.name} ${OP_TEXT[c.op]} ${e.epoch ? `${e.epoch}:` : ''}${e.version}${e.release !== null ? `-${e.release}` : ''}`;
}

export function reqToString(r: Req): string {
  switch (r.kind) {
    case 'cap':
      return capToString(r.cap);
    case 'if':
    case 'unless':
      return `(${reqToString(r.then)} ${r.kind} ${reqToString(r.cond)}${r.else ? ` else ${reqToString(r.else)}` : ''})`;
    default:
      return `(${r.args.map(reqToString).join(` ${r.kind} `)})`;
  }
}

/** "name", "name >= 1.0-2" (rpm style). */
export function parseCap(text: string): Cap | null {
  const m = /^\s*(\S+)(?:\s+(<=|>=|==|<<|>>|<|>|=)\s+(\S+))?\s*$/.exec(text);
  if (!m?.[1]) return null;
  if (m[2] && m[3]) return cap(m[1], OPS[m[2]]!, m[3]);
  return cap(m[1]);
}

export type ReqParse = { ok: true; req: Req } | { ok: false; error: string };

const RICH_OPS = new Set(['and', 'or', 'if', 'unless', 'else', 'with', 'without']);

/** An rpm dependency string: a simple capability or a rich dependency in parentheses. */
export function parseReq(text: string): ReqParse {
  const s = text.trim();
  if (!s.startsWith('(')) {
    const c = parseCap(s);
    return c ? { ok: true, req: { kind: 'cap', cap: c } } : { ok: false, error: `not a dependency: "${s.length > 80 ? `${s.slice(0, 80)}…` : s}"` };
  }
  const tokens = tokenize(s);
  let pos = 0;
  // Nesting is bounded so the recursive descent here and every recursive walk of a Req stay shallow.
  let depth = 0;
  const fail = (why: string): never => {
    throw new RichSyntax(`${why} in "${s.length > 80 ? `${s.slice(0, 80)}…` : s}"`);
  };
  // term := '(' expr ')' | name [op evr]
  const term = (): Req => {
    const t = tokens[pos];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      if (++depth > LIMITS.richDepth) fail(`rich dependency nested deeper than ${LIMITS.richDepth} levels`);
      pos++;
      const e = expr();
      depth--;
      if (tokens[pos] !== ')') fail('missing ")"');
      pos++;
      return e;
    }
    if (t === ')' || RICH_OPS.has(t)) return fail(`unexpected "${t}"`);
    pos++;
    const op = tokens[pos];
    if (op !== undefined && Object.hasOwn(OPS, op) && tokens[pos + 1] !== undefined && tokens[pos + 1] !== ')' && tokens[pos + 1] !== '(') {
      pos += 2;
      return { kind: 'cap', cap: cap(t, OPS[op]!, tokens[pos - 1]!) };
    }
    return { kind: 'cap', cap: cap(t) };
  };
  const expr = (): Req => {
    const first = term();
    const op = tokens[pos];
    if (op === undefined || op === ')') return first;
    if (op === 'and' || op === 'or' || op === 'with' || op === 'without') {
      const args = [first];
      while (tokens[pos] === op) {
        pos++;
        args.push(term());
        if (op === 'without') break; // "without" takes exactly two operands
      }
      if (tokens[pos] !== undefined && tokens[pos] !== ')') fail(`cannot mix "${op}" with "${tokens[pos]}" without parentheses`);
      return { kind: op, args };
    }
    if (op === 'if' || op === 'unless') {
      pos++;
      const cond = term();
      let otherwise: Req | null = null;
      if (tokens[pos] === 'else') {
        pos++;
        otherwise = term();
      }
      if (tokens[pos] !== undefined && tokens[pos] !== ')') fail(`unexpected "${tokens[pos]}"`);
      return { kind: op, then: first, cond, else: otherwise };
    }
    return fail(`unknown operator "${op}"`);
  };
  try {
    const req = term();
    if (pos !== tokens.length) fail('trailing text');
    return { ok: true, req };
  } catch (err) {
    if (err instanceof RichSyntax) return { ok: false, error: err.message };
    throw err;
  }
}

class RichSyntax extends Error {}

/**
 * Rich-dependency tokens. A name may hold balanced parentheses of its own
 * (sonames such as libfoo.so.1()(64bit)), so "(" only opens a group at the
 * start of a token.
 */
function tokenize(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
    } else if (c === '(' || c === ')') {
      out.push(c);
      i++;
    } else {
      let depth = 0;
      let j = i;
      for (; j < s.length; j++) {
        const d = s[j]!;
        if (d === ' ' || d === '\t' || d === '\n') break;
        if (d === '(') depth++;
        else if (d === ')') {
          if (depth === 0) break;
          depth--;
        }
      }
      out.push(s.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** All capability names a requirement mentions (for indexing and file-list decisions). */
export function reqCaps(r: Req, out: Cap[] = []): Cap[] {
  if (r.kind === 'cap') out.push(r.cap);
  else if (r.kind === 'if' || r.kind === 'unless') {
    reqCaps(r.then, out);
    reqCaps(r.cond, out);
    if (r.else) reqCaps(r.else, out);
  } else if ('args' in r) for (const a of r.args) reqCaps(a, out);
  return out;
}
